"""Extraction: every family's name map, fused splits vs the transformers forward, shards, errors."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from _families import TINY_CONFIGS
from _families import build_tiny

from attnscope.arch import parse_config
from attnscope.errors import ConfigError, UnsupportedModelError
from attnscope.trajectory.extract import _piece, extract
from attnscope.trajectory.names import layout_for
from attnscope.trajectory.sources import SafetensorsSource, StateDictSource, TensorNameError


def _layout(cfg):
    return layout_for(parse_config(cfg, name="tiny"), cfg)


@pytest.mark.parametrize("name", list(TINY_CONFIGS))
def test_every_family_extracts(name):
    cfg = TINY_CONFIGS[name]
    layout = _layout(cfg)
    state = build_tiny(cfg).state_dict()
    ext = extract(StateDictSource(state), layout)
    assert {r.name for r in layout.rows} == set(ext.rows)
    for row in layout.rows:
        got = ext.rows[row.name]
        assert got.layers == list(row.layers if row.layers is not None else range(layout.n_layers))
        for tensor, j in zip(got.tensors, range(len(got.layers))):
            w = state[tensor].numpy()
            if row.kind == "norm":  # fresh init: unit effective gain (Gemma stores 0 and uses 1 + w)
                assert got.values["mean_abs"][j] == pytest.approx(1.0, abs=1e-6)
                assert np.mean(np.abs(w + row.gain_offset)) == pytest.approx(got.values["mean_abs"][j], rel=1e-6)
            elif row.split is None:
                assert got.values["frobenius"][j] == pytest.approx(float(np.linalg.norm(w.astype(np.float64))), rel=1e-6)
                assert got.values["spectral"][j] <= got.values["frobenius"][j] * (1 + 1e-6)
    if layout.family == "olmo":
        assert not any(r.kind == "norm" for r in layout.rows) and "non-parametric" in layout.absent[0]


# family -> (attention module name under the layer, qkv/o/mlp rows stored as Conv1D [in, out])
FUSED = {"gpt_neox": "attention", "bloom": "self_attention", "falcon": "self_attention", "falcon_gqa": "self_attention",
         "falcon_mha": "self_attention", "gpt2": "attn", "phi3": "self_attn"}


@pytest.mark.parametrize("name", list(FUSED))
def test_fused_split_matches_transformers_forward(name):
    """With one token, attention output = W_o (v repeated over the query heads of its KV group)."""
    import torch

    cfg = TINY_CONFIGS[name]
    layout = _layout(cfg)
    model = build_tiny(cfg, seed=3)
    with torch.no_grad():
        for mod in model.modules():
            if getattr(mod, "bias", None) is not None and getattr(mod, "weight", None) is not None and mod.weight.ndim == 2:
                mod.bias.zero_()
    ext = extract(StateDictSource(model.state_dict()), layout)
    prefix0 = ext.prefix.format(i=0)
    seen = {}
    attn = model.get_submodule(prefix0 + FUSED[name])

    def hook(mod, args, kwargs, output):
        seen["x"] = (args[0] if args else kwargs["hidden_states"]).detach()[0, 0].numpy().astype(np.float64)
        seen["y"] = (output[0] if isinstance(output, tuple) else output).detach()[0, 0].numpy().astype(np.float64)
        if name == "bloom":  # BloomAttention adds its residual argument itself
            residual = args[1] if len(args) > 1 else kwargs["residual"]
            seen["y"] = seen["y"] - residual.detach()[0, 0].numpy().astype(np.float64)

    handle = attn.register_forward_hook(hook, with_kwargs=True)
    with torch.no_grad():
        model(input_ids=torch.tensor([[5]]))
    handle.remove()
    state = {k: v.numpy().astype(np.float64) for k, v in model.state_dict().items()}
    rows = {r.name: r for r in layout.rows}
    v_row, o_row = rows["v"], rows["o"]
    v_mat = _piece(state[prefix0 + v_row.tensor], v_row, layout, "v")
    o_mat = state[prefix0 + o_row.tensor]
    h, kv, dh = layout.n_heads, layout.n_kv_heads, layout.d_head
    v = v_mat @ seen["x"] if v_row.in_axis == 1 else seen["x"] @ v_mat  # [kv * dh]
    v_full = np.repeat(v.reshape(-1, dh), h // (v.size // dh), axis=0).reshape(-1)  # each query head sees its KV head
    expected = o_mat @ v_full if o_row.in_axis == 1 else v_full @ o_mat
    np.testing.assert_allclose(seen["y"], expected, rtol=1e-4, atol=1e-5)
    # q and k pieces have the head-count shapes
    q = _piece(state[prefix0 + rows["q"].tensor], rows["q"], layout, "q")
    k = _piece(state[prefix0 + rows["k"].tensor], rows["k"], layout, "k")
    assert h * dh in q.shape and kv * dh in k.shape


def test_phi3_fused_gate_up_matches_mlp_forward():
    import torch

    cfg = TINY_CONFIGS["phi3"]
    layout = _layout(cfg)
    model = build_tiny(cfg, seed=4)
    mlp = model.model.layers[0].mlp
    x = torch.randn(1, 1, 32)
    with torch.no_grad():
        y = mlp(x)[0, 0].numpy()
    rows = {r.name: r for r in layout.rows}
    w = model.state_dict()["model.layers.0.mlp.gate_up_proj.weight"].numpy()
    gate, up = _piece(w, rows["gate"], layout, "g"), _piece(w, rows["up"], layout, "u")
    down = model.state_dict()["model.layers.0.mlp.down_proj.weight"].numpy()
    xv = x[0, 0].numpy()
    g = gate @ xv
    expected = down @ ((g / (1 + np.exp(-g))) * (up @ xv))  # silu(gate x) * (up x)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


def test_sharded_equals_unsharded_and_reads_each_tensor_once(tmp_path, tiny_llama_dir):
    model_dir = tmp_path / "sharded"
    cfg = json.loads((tiny_llama_dir / "config.json").read_text())
    from safetensors.torch import load_file

    from transformers import AutoConfig, AutoModelForCausalLM
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model("llama", **{k: v for k, v in cfg.items() if k != "model_type"}))
    model.load_state_dict(load_file(str(tiny_llama_dir / "model.safetensors")), strict=False)
    model.save_pretrained(model_dir, max_shard_size="40KB")
    assert (model_dir / "model.safetensors.index.json").is_file()
    sharded = SafetensorsSource(model_dir)
    assert sharded.sharded and len(sharded.files) > 2
    layout = _layout(cfg)
    reads = []
    get = sharded.get
    sharded.get = lambda name: reads.append(name) or get(name)  # count lazy reads
    a = extract(sharded, layout)
    b = extract(SafetensorsSource(tiny_llama_dir), layout)
    assert len(reads) == len(set(reads)) == sum(len(r.layers) for r in a.rows.values())
    for name in a.rows:
        assert a.rows[name].values == b.rows[name].values
    np.testing.assert_allclose(a.rows["input_ln"].values["mean_abs"], 0.8 * 1.1 ** np.arange(10), rtol=0.04)


def test_extraction_builds_no_model(monkeypatch, tiny_llama_dir):
    import transformers

    def boom(*a, **k):
        raise AssertionError("a model was constructed during extraction")

    monkeypatch.setattr(transformers.PreTrainedModel, "__init__", boom)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_config", boom)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", boom)
    from attnscope.trajectory import trajectory

    res = trajectory(str(tiny_llama_dir), null=False, split_sims=0)
    assert res.models[0].extraction.rows["q"].layers == list(range(10))


def _rewrite(src_dir, dst_dir, edit):
    from safetensors.torch import load_file, save_file

    shutil.copytree(src_dir, dst_dir)
    tensors = load_file(str(dst_dir / "model.safetensors"))
    edit(tensors)
    save_file(tensors, str(dst_dir / "model.safetensors"), metadata={"format": "pt"})
    return dst_dir


def test_missing_tensor_names_it(tmp_path, tiny_llama_dir):
    def rename(t):
        t["model.layers.3.self_attn.key_proj.weight"] = t.pop("model.layers.3.self_attn.k_proj.weight")

    folder = _rewrite(tiny_llama_dir, tmp_path / "renamed", rename)
    cfg = json.loads((folder / "config.json").read_text())
    with pytest.raises(TensorNameError) as exc:
        extract(SafetensorsSource(folder), _layout(cfg))
    msg = str(exc.value)
    assert isinstance(exc.value, ConfigError) and "\n" not in msg
    assert exc.value.value == "model.layers.3.self_attn.k_proj.weight"
    assert "key_proj" in msg  # closest name present


def test_odd_shape_names_the_tensor(tmp_path, tiny_llama_dir):
    def reshape(t):
        t["model.layers.2.input_layernorm.weight"] = t["model.layers.2.input_layernorm.weight"].reshape(4, 8)

    folder = _rewrite(tiny_llama_dir, tmp_path / "odd", reshape)
    cfg = json.loads((folder / "config.json").read_text())
    with pytest.raises(TensorNameError, match="1-D") as exc:
        extract(SafetensorsSource(folder), _layout(cfg))
    assert exc.value.value == "model.layers.2.input_layernorm.weight"


def test_fused_shape_mismatch_names_the_tensor():
    cfg = TINY_CONFIGS["gpt_neox"]
    state = build_tiny(cfg).state_dict()
    state["gpt_neox.layers.1.attention.query_key_value.weight"] = state["gpt_neox.layers.1.attention.query_key_value.weight"][:-8]
    with pytest.raises(TensorNameError, match="does not split") as exc:
        extract(StateDictSource(state), _layout(cfg))
    assert exc.value.value == "gpt_neox.layers.1.attention.query_key_value.weight"


def test_prefixes_hub_style_and_wrapped():
    cfg = TINY_CONFIGS["gpt2"]
    state = {k.removeprefix("transformer."): v for k, v in build_tiny(cfg).state_dict().items()}  # hub gpt2 has no prefix
    ext = extract(StateDictSource(state), _layout(cfg))
    assert ext.prefix == "h.{i}." and not ext.warnings
    cfg = TINY_CONFIGS["llama"]
    state = {"wrapper." + k: v for k, v in build_tiny(cfg).state_dict().items()}
    ext = extract(StateDictSource(state), _layout(cfg))
    assert ext.prefix == "wrapper.model.layers.{i}." and "non-standard layer prefix" in ext.warnings[0]


def test_no_weights_and_unknown_family(tmp_path):
    from attnscope.errors import ModelSourceError

    with pytest.raises(ModelSourceError, match="model.safetensors"):
        SafetensorsSource(tmp_path)
    spec = parse_config(dict(model_type="weird_lm", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                             vocab_size=64, intermediate_size=64, max_position_embeddings=64), name="weird")
    with pytest.raises(UnsupportedModelError) as exc:
        layout_for(spec, {})
    assert exc.value.field == "family"


def test_original_olmo_format_fused_splits():
    """hf_olmo (no transformers class): att_proj = [q | k | v] rows, ff_proj = [x | gate] with silu(gate) * x."""
    cfg = {"model_type": "hf_olmo", "d_model": 32, "n_heads": 4, "n_kv_heads": 2, "n_layers": 2, "mlp_ratio": 4,
           "vocab_size": 64, "max_sequence_length": 128, "layer_norm_type": "rms", "layer_norm_with_affine": True,
           "attention_layer_norm": True, "rope": True, "rope_theta": 10000.0}
    layout = _layout(cfg)
    state = {}
    for i in range(2):
        p = f"model.transformer.blocks.{i}."
        state[p + "att_proj.weight"] = np.concatenate([np.full((32, 32), 1.0), np.full((16, 32), 2.0), np.full((16, 32), 3.0)])
        state[p + "ff_proj.weight"] = np.concatenate([np.full((64, 32), 1.0), np.full((64, 32), 5.0)])
        state[p + "attn_out.weight"] = np.eye(32)
        state[p + "ff_out.weight"] = np.ones((32, 64))
        for n, size in (("attn_norm", 32), ("ff_norm", 32), ("q_norm", 32), ("k_norm", 16)):
            state[p + f"{n}.weight"] = np.full(size, 1.0 + i)
    ext = extract(StateDictSource(state), layout)
    fro = {r: ext.rows[r].values["frobenius"][0] for r in ("q", "k", "v", "up", "gate")}
    assert fro == pytest.approx({"q": 32.0, "k": 2 * np.sqrt(16 * 32), "v": 3 * np.sqrt(16 * 32),
                                 "up": np.sqrt(64 * 32), "gate": 5 * np.sqrt(64 * 32)})
    assert ext.rows["input_ln"].values["mean_abs"] == [1.0, 2.0] and ext.qk_norm_logit_gain == [1.0, 4.0]
    assert any("attention_layer_norm_with_affine" in w for w in ext.warnings)  # reference default, said out loud
