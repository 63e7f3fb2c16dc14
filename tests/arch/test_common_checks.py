"""Invariants every parsed preset must satisfy (a common-checks suite over the registry)."""
from __future__ import annotations

import pydantic
import pytest

from attnscope.arch import ArchSpec, load_arch, resolve_source
from attnscope.archparse.families import FAMILIES
from attnscope.archparse.sources import preset_index

NAMES = sorted(preset_index())


@pytest.mark.parametrize("name", NAMES)
def test_preset_invariants(name):
    s = load_arch(name)
    info = preset_index()[name]
    assert s.family in FAMILIES and s.family == info["family"]
    assert len(s.layer_rope_theta) == len(s.layer_window) == s.n_layers
    assert s.layer_types is None or len(s.layer_types) == s.n_layers
    assert s.config_sha256 == resolve_source(name).config_sha256
    assert s.n_params_M > 0
    if s.position_encoding == "rope":
        assert s.rope_theta is not None and s.rope_theta > 0
        assert 0 < s.rotary_dim <= s.d_head and s.rotary_dim % 2 == 0
        assert all(t is not None and t > 0 for t in s.layer_rope_theta)
    else:
        assert s.rope_theta is None and s.rotary_dim is None and set(s.layer_rope_theta) == {None}
    if s.has_attention:
        assert s.n_heads % s.n_kv_heads == 0
        assert s.multi_query == (s.n_kv_heads == 1)
    if s.sliding_window is None:
        assert set(s.layer_window) == {None}
    else:
        assert set(s.layer_window) <= {None, s.sliding_window}
    if s.T_train is not None and s.context_length is not None:
        assert s.T_train <= s.context_length
    if s.rope_scaling is not None:
        assert isinstance(s.rope_scaling["type"], str)
    assert not s.warnings or name in ("bloom-7b1", "gemma-3-4b-it"), s.warnings  # the two documented guesses
    # JSON round trip and immutability
    assert ArchSpec.model_validate_json(s.model_dump_json()) == s
    with pytest.raises(pydantic.ValidationError):
        s.n_layers = 1  # type: ignore[misc]


@pytest.mark.parametrize("name", ["gemma-3-4b-it", "phi-3.5-mini-instruct", "deepseek-v3", "falcon-7b"])
def test_parse_does_not_mutate_its_input(preset_cfg, name):
    import copy
    import json

    from attnscope.arch import parse_config

    cfg = preset_cfg(name)
    flat = dict(cfg.get("text_config", cfg), model_type="gemma3_text") if name == "gemma-3-4b-it" else cfg
    before = copy.deepcopy(flat)
    parse_config(flat, name=name)
    assert json.dumps(flat, sort_keys=True) == json.dumps(before, sort_keys=True)
