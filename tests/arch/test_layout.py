"""Per-layer windows and θ: Qwen2 max_window_layers, explicit layer_types, Gemma patterns."""
from __future__ import annotations

import pytest

from attnscope.arch import parse_config
from attnscope.errors import ConfigError


def test_qwen2_enabled_window_applies_from_max_window_layers(preset_cfg):
    cfg = preset_cfg("qwen2.5-7b")
    cfg.update(use_sliding_window=True, sliding_window=4096, max_window_layers=20)
    s = parse_config(cfg)
    assert s.sliding_window == 4096
    assert s.layer_window == [None] * 20 + [4096] * 8
    assert s.layer_types[19:21] == ["full_attention", "sliding_attention"]


def test_qwen2_enabled_but_all_layers_below_max_window_layers_is_full(preset_cfg):
    cfg = preset_cfg("qwen2.5-7b")
    cfg.update(use_sliding_window=True, sliding_window=4096)  # max_window_layers == 28 == n_layers
    s = parse_config(cfg)
    assert s.sliding_window is None and s.layer_types is None


def test_qwen2_disabled_window_is_not_applied(preset_cfg):
    cfg = preset_cfg("qwen2.5-0.5b")
    assert cfg["sliding_window"] == 32768 and cfg["use_sliding_window"] is False
    s = parse_config(cfg)
    assert s.sliding_window is None and s.layer_window == [None] * 24


def test_explicit_layer_types_override_patterns(preset_cfg):
    cfg = preset_cfg("gemma-2-9b-it")
    cfg["layer_types"] = ["full_attention"] * 40 + ["sliding_attention"] * 2
    s = parse_config(cfg)
    assert s.layer_window == [None] * 40 + [4096, 4096]


def test_layer_types_length_mismatch_is_an_error(preset_cfg):
    cfg = preset_cfg("gemma-2-9b-it")
    cfg["layer_types"] = ["full_attention"] * 3
    with pytest.raises(ConfigError, match="layer_types"):
        parse_config(cfg)


def test_gemma3_pattern_key_variants(preset_cfg):
    cfg = preset_cfg("gemma-3-4b-it")
    cfg["text_config"]["sliding_window_pattern"] = 2
    s = parse_config(cfg)
    assert s.layer_types[:4] == ["sliding_attention", "full_attention"] * 2
    assert s.layer_rope_theta[:2] == [1e4, 1e6]


def test_layer_groups_cover_every_layer_once():
    from attnscope.arch import load_arch

    for name in ("gemma-2-9b-it", "gemma-3-4b-it", "mistral-7b", "llama-3-8b"):
        s = load_arch(name)
        covered = sorted(i for g in s.layer_groups() for i in g.layers)
        assert covered == list(range(s.n_layers))
