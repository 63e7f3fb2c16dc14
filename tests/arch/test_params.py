"""Parameter counts from the config vs the published counts recorded in presets/index.json."""
from __future__ import annotations

import pytest

from attnscope.arch import list_presets, load_arch, parse_config
from attnscope.archparse.sources import preset_index

INDEX = preset_index()


@pytest.mark.parametrize("name", sorted(INDEX))
def test_total_params_within_5_percent_of_published(name):
    info = INDEX[name]
    assert info["n_params_source"], "every published count carries its source"
    spec = load_arch(name)
    assert spec.n_params_M == pytest.approx(info["n_params_published_M"], rel=0.05)


@pytest.mark.parametrize("name", [n for n, i in INDEX.items() if "n_params_active_published_M" in i])
def test_moe_active_params_within_5_percent(name):
    spec = load_arch(name)
    assert spec.is_moe and spec.n_params_active_M is not None
    assert spec.n_params_active_M < spec.n_params_M / 5
    assert spec.n_params_active_M == pytest.approx(INDEX[name]["n_params_active_published_M"], rel=0.05)


def test_dense_models_have_no_active_count():
    assert all(p.n_params_active_M is None for p in list_presets() if not load_arch(p.name).is_moe)


def test_tied_embeddings_remove_the_lm_head(preset_cfg):
    cfg = preset_cfg("llama-3.2-1b")
    tied = parse_config(cfg).n_params_M
    cfg["tie_word_embeddings"] = False
    untied = parse_config(cfg).n_params_M
    assert untied - tied == pytest.approx(cfg["vocab_size"] * cfg["hidden_size"] / 1e6)


def test_gqa_shrinks_kv_projections(preset_cfg):
    cfg = preset_cfg("llama-3-8b")
    gqa = parse_config(cfg).n_params_M
    cfg["num_key_value_heads"] = 32
    mha = parse_config(cfg).n_params_M
    d, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    assert mha - gqa == pytest.approx(L * 2 * d * (32 - 8) * 128 / 1e6)


def test_qwen2_qkv_biases_counted(preset_cfg):
    s = parse_config(preset_cfg("qwen2.5-0.5b"))
    cfg = preset_cfg("qwen2.5-0.5b")
    cfg["model_type"] = "llama"  # same shapes, no biases
    assert s.n_params_M - parse_config(cfg).n_params_M == pytest.approx(24 * (14 + 2 * 2) * 64 / 1e6)


def test_publications_used_as_checks_are_exact_where_known():
    # exact checkpoint counts: the estimator reproduces them to the parameter
    for name in ("pythia-70m", "gpt2", "llama-2-7b", "mistral-7b", "bloom-7b1", "phi-2", "gemma-2-9b-it"):
        assert load_arch(name).n_params_M == pytest.approx(INDEX[name]["n_params_published_M"], abs=1e-6)
