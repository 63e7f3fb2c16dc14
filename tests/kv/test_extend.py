"""RoPE-scaled configs round-trip through transformers and do what their method says."""
from __future__ import annotations

import pytest
import torch

from attnscope.errors import DomainError, ProtocolError
from attnscope.kv.extend import METHODS, check_factor, check_method, rope_parameters_for, scaled_model
from attnscope.theory import ntk_alpha, ntk_aware_alpha

THETA, TT, DIM = 100.0, 64, 8


@pytest.mark.parametrize("method", METHODS)
def test_rope_configs_round_trip(tiny, method, tmp_path):
    from transformers import AutoConfig, AutoModelForCausalLM

    rp, alpha = rope_parameters_for(method, 2.0, theta=THETA, T_train=TT, rotary_dim=DIM)
    model = scaled_model(tiny, rp, T_train=TT, factor=None if method == "none" else 2.0)
    model.save_pretrained(tmp_path)
    cfg = AutoConfig.from_pretrained(tmp_path)
    for k, v in rp.items():
        assert cfg.rope_parameters[k] == pytest.approx(v) if isinstance(v, float) else cfg.rope_parameters[k] == v
    back = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    ids = torch.randint(2, 64, (1, 100), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(back(ids).logits, model(ids).logits)  # beyond T: the scaling is in effect
    if method in ("ntk", "ntk_aware"):
        expect = ntk_alpha(THETA, 2 * TT, T_train=TT) if method == "ntk" else ntk_aware_alpha(2.0, DIM)
        assert alpha == pytest.approx(expect)
        inv = 1.0 / (alpha * THETA) ** (torch.arange(0, DIM, 2, dtype=torch.float) / DIM)
        assert torch.allclose(back.model.rotary_emb.inv_freq, inv)


def test_none_keeps_the_model_and_linear_interpolates_positions(tiny):
    ids = torch.randint(2, 64, (1, 40), generator=torch.Generator().manual_seed(1))
    rp0, _ = rope_parameters_for("none", None, theta=THETA, T_train=TT, rotary_dim=DIM)
    with torch.no_grad():
        assert torch.equal(scaled_model(tiny, rp0, T_train=TT, factor=None)(ids).logits, tiny(ids).logits)
        lin = scaled_model(tiny, rope_parameters_for("linear", 2.0, theta=THETA, T_train=TT, rotary_dim=DIM)[0],
                           T_train=TT, factor=2.0)
        x = torch.zeros(1, 1, 32)
        pos = torch.arange(0, 40, 2)[None]
        cos_lin, _ = lin.model.rotary_emb(x, pos)            # linear s=2 at positions 2p ...
        cos_base, _ = tiny.model.rotary_emb(x, pos // 2)     # ... equals the unscaled rotation at p
    assert torch.allclose(cos_lin, cos_base, atol=1e-6)


def test_bad_factors_and_methods():
    for bad in (1, 1.0, 0.5, -2, float("inf"), True):
        with pytest.raises(DomainError, match="> 1"):
            check_factor(bad)
    with pytest.raises(ProtocolError, match="unknown context-extension method"):
        check_method("rope2")
    with pytest.raises(DomainError):
        rope_parameters_for("yarn", 1.0, theta=THETA, T_train=TT, rotary_dim=DIM)
