"""Legacy ``rope_theta`` + ``rope_scaling`` and transformers-v5 ``rope_parameters`` give the same spec."""
from __future__ import annotations

import pytest

from attnscope.arch import parse_config

SAME = {"config_sha256", "warnings", "notes", "source"}


def _spec(cfg):
    return parse_config(cfg, name="m").model_dump(exclude=SAME)


def to_v5_flat(cfg: dict) -> dict:
    """Hand-made v5 re-save: θ, scaling and partial factor move into ``rope_parameters``."""
    cfg = dict(cfg)
    rp = dict(cfg.pop("rope_scaling", None) or {})
    if "type" in rp:
        rp["rope_type"] = rp.pop("type")
    rp.setdefault("rope_type", "default")
    for legacy, new in (("rope_theta", "rope_theta"), ("rotary_emb_base", "rope_theta"),
                        ("partial_rotary_factor", "partial_rotary_factor"), ("rotary_pct", "partial_rotary_factor")):
        if legacy in cfg:
            rp[new] = cfg.pop(legacy)
    if rp["rope_type"] in ("llama3", "yarn", "longrope") and "original_max_position_embeddings" in cfg:
        rp["original_max_position_embeddings"] = cfg.pop("original_max_position_embeddings")
    cfg["rope_parameters"] = rp
    return cfg


@pytest.mark.parametrize("name", ["llama-3.1-8b", "pythia-160m", "phi-2", "phi-3.5-mini-instruct",
                                  "deepseek-v2-lite", "qwen2.5-7b", "mistral-7b"])
def test_legacy_equals_v5_flat(preset_cfg, name):
    legacy = preset_cfg(name)
    v5 = to_v5_flat(legacy)
    assert "rope_theta" not in v5 and "rope_scaling" not in v5
    assert _spec(legacy) == _spec(v5)


def test_legacy_equals_v5_nested_per_layer_type(preset_cfg):
    legacy = preset_cfg("gemma-3-4b-it")
    tc = dict(legacy["text_config"])
    tc.pop("rope_scaling")
    tc["rope_parameters"] = {
        "full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1_000_000.0},
        "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
    }
    v5 = {**legacy, "text_config": tc}
    a, b = _spec(legacy), _spec(v5)
    assert a == b
    assert sorted(set(b["layer_rope_theta"])) == [1e4, 1e6]


def test_nested_theta_values_drive_layer_theta(preset_cfg):
    cfg = preset_cfg("gemma-2-9b-it")
    cfg.pop("rope_theta")
    cfg["rope_parameters"] = {"full_attention": {"rope_type": "default", "rope_theta": 5e5},
                              "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}
    s = parse_config(cfg)
    assert s.rope_theta == 5e5
    assert s.layer_rope_theta[:4] == [1e4, 5e5, 1e4, 5e5]


def test_type_and_rope_type_keys_are_equivalent(preset_cfg):
    a = preset_cfg("deepseek-v2-lite")
    b = preset_cfg("deepseek-v2-lite")
    b["rope_scaling"]["rope_type"] = b["rope_scaling"].pop("type")
    assert _spec(a) == _spec(b)


def test_legacy_su_alias_is_longrope(preset_cfg):
    cfg = preset_cfg("phi-3.5-mini-instruct")
    cfg["rope_scaling"]["type"] = "su"
    assert parse_config(cfg).rope_scaling["type"] == "longrope"


def test_transformers_v5_resave_gives_same_spec(preset_cfg):
    """Cross-check against transformers' own v5 serialisation (config classes only in the test)."""
    transformers = pytest.importorskip("transformers")
    for name in ("llama-3.1-8b", "pythia-70m", "phi-3.5-mini-instruct", "gemma-2-9b-it", "qwen2.5-0.5b",
                 "deepseek-v2-lite", "gemma-3-4b-it"):
        legacy = preset_cfg(name)
        resaved = transformers.AutoConfig.for_model(**preset_cfg(name)).to_dict()
        assert _spec(legacy) == _spec(resaved), name
