"""Temperature schedules: only from gains that scale the logits; planted schedules recovered."""
from __future__ import annotations

import numpy as np
import pytest

from _families import TINY_CONFIGS
from _families import build_tiny

from attnscope.arch import parse_config
from attnscope.trajectory.extract import extract
from attnscope.trajectory.names import layout_for
from attnscope.trajectory.sources import StateDictSource
from attnscope.trajectory.temperature import INPUT_LN_NOTE, temperature_schedules


def _run(cfg, edit=None, seed=0):
    import torch

    model = build_tiny(cfg, seed=seed)
    if edit is not None:
        with torch.no_grad():
            edit(model)
    layout = layout_for(parse_config(cfg, name="t"), cfg)
    ext = extract(StateDictSource(model.state_dict()), layout, tol=1e-7, max_iter=2000)
    return model, layout, ext


def test_olmo2_full_width_qk_norm_pairs_query_heads_with_their_kv_head():
    cfg = dict(TINY_CONFIGS["olmo2"])  # 4 query heads, 2 KV heads, d_head 8, norms over all heads
    rng = np.random.default_rng(0)
    gq = [rng.uniform(0.5, 2.0, 32) for _ in range(2)]
    gk = [rng.uniform(0.5, 2.0, 16) for _ in range(2)]

    def edit(model):
        import torch

        for i, layer in enumerate(model.model.layers):
            layer.self_attn.q_norm.weight.copy_(torch.tensor(gq[i]))
            layer.self_attn.k_norm.weight.copy_(torch.tensor(gk[i]))

    _, layout, ext = _run(cfg, edit)
    for i in range(2):
        q = gq[i].reshape(4, 8)
        k = gk[i].reshape(2, 8)
        expected = np.mean([q[h] * k[h // 2] for h in range(4)])
        assert ext.qk_norm_logit_gain[i] == pytest.approx(expected, rel=1e-6)


def test_planted_qwen3_cooling_schedule_is_recovered():
    cfg = dict(TINY_CONFIGS["qwen3"], num_hidden_layers=16)
    rng = np.random.default_rng(1)
    gains = 1.3 * np.exp(0.04 * np.arange(16)) * (1 + 0.01 * rng.standard_normal(16))  # q gain; k gain stays 1

    def edit(model):
        for i, layer in enumerate(model.model.layers):
            layer.self_attn.q_norm.weight.fill_(float(gains[i]))

    _, layout, ext = _run(cfg, edit)
    scheds, notes = temperature_schedules(ext, layout)
    qk = next(s for s in scheds if s.source == "qk_norm")
    assert qk.applicable and INPUT_LN_NOTE in notes
    np.testing.assert_allclose(qk.temperature, 1.0 / gains, rtol=1e-5)
    assert qk.fit.selected == "exponential"
    b = next(p for p in qk.fit.fits["exponential"].params if p.name == "b")
    assert b.ci_low <= -0.04 <= b.ci_high  # T = (1/1.3) exp(-0.04 L)
    proj = next(s for s in scheds if s.source == "qk_proj")
    assert not proj.applicable and "re-normalise" in proj.note


def test_qk_projection_proxy_folds_the_input_gain():
    cfg = dict(TINY_CONFIGS["llama"], num_hidden_layers=6)

    def edit(model):
        for i, layer in enumerate(model.model.layers):
            layer.input_layernorm.weight.uniform_(0.5, 1.5)

    model, layout, ext = _run(cfg, edit, seed=2)
    sd = {k: v.numpy().astype(np.float64) for k, v in model.state_dict().items()}
    for i in range(6):
        g = sd[f"model.layers.{i}.input_layernorm.weight"]
        sq = np.linalg.svd(sd[f"model.layers.{i}.self_attn.q_proj.weight"] * g, compute_uv=False)[0]
        sk = np.linalg.svd(sd[f"model.layers.{i}.self_attn.k_proj.weight"] * g, compute_uv=False)[0]
        assert ext.qk_proj_logit_gain[i] == pytest.approx(sq * sk / np.sqrt(layout.d_head), rel=1e-4)
    scheds, notes = temperature_schedules(ext, layout)
    assert [s.applicable for s in scheds] == [False, True]
    assert "no q_norm/k_norm" in scheds[0].note and INPUT_LN_NOTE in notes


@pytest.mark.parametrize("family, reason", [("deepseek_v3", "MLA"), ("mamba", "no attention")])
def test_no_schedule_where_weights_do_not_set_a_single_logit_scale(family, reason):
    _, layout, ext = _run(TINY_CONFIGS[family])
    scheds, _ = temperature_schedules(ext, layout)
    assert not any(s.applicable for s in scheds)
    assert any(reason in s.note for s in scheds)


def test_gpt2_inverse_layer_scaling_enters_the_projection_gain():
    base = dict(TINY_CONFIGS["gpt2"], n_layer=3)
    _, _, plain = _run(base, seed=5)
    _, layout, scaled = _run(dict(base, scale_attn_by_inverse_layer_idx=True), seed=5)
    np.testing.assert_allclose(scaled.qk_proj_logit_gain, np.array(plain.qk_proj_logit_gain) / np.arange(1, 4), rtol=1e-6)
    assert any("inverse_layer_idx" in n for n in layout.notes)
