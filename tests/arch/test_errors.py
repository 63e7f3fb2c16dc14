"""Bad input: one error type per kind, naming the field and value; unknown families warn."""
from __future__ import annotations

import pytest

from attnscope.arch import parse_config
from attnscope.errors import ConfigError, DomainError


def test_not_a_dict():
    with pytest.raises(ConfigError, match="JSON object"):
        parse_config(["x"])  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["hidden_size", "num_hidden_layers", "vocab_size", "num_attention_heads"])
def test_missing_required_key_names_it(preset_cfg, key):
    cfg = preset_cfg("llama-2-7b")
    del cfg[key]
    with pytest.raises(ConfigError) as ei:
        parse_config(cfg)
    assert ei.value.field == key


@pytest.mark.parametrize("theta", [0, -1.0])
def test_nonpositive_theta(preset_cfg, theta):
    cfg = preset_cfg("llama-3-8b")
    cfg["rope_theta"] = theta
    with pytest.raises(DomainError) as ei:
        parse_config(cfg)
    assert ei.value.field == "rope_theta" and ei.value.value == theta


def test_nonpositive_theta_in_rope_parameters(preset_cfg):
    cfg = preset_cfg("llama-3-8b")
    cfg.pop("rope_theta")
    cfg["rope_parameters"] = {"rope_type": "default", "rope_theta": -5}
    with pytest.raises(DomainError, match="rope_parameters.rope_theta"):
        parse_config(cfg)


def test_bad_types_and_shapes(preset_cfg):
    cfg = preset_cfg("llama-3-8b")
    cfg["hidden_size"] = "4096"
    with pytest.raises(ConfigError, match="hidden_size"):
        parse_config(cfg)
    cfg = preset_cfg("llama-3-8b")
    cfg["num_key_value_heads"] = 5
    with pytest.raises(ConfigError, match="num_key_value_heads"):
        parse_config(cfg)
    cfg = preset_cfg("llama-3-8b")
    cfg["num_hidden_layers"] = 0
    with pytest.raises(DomainError, match="num_hidden_layers"):
        parse_config(cfg)
    cfg = preset_cfg("phi-2")
    cfg["partial_rotary_factor"] = 1.5
    with pytest.raises(ConfigError, match="partial_rotary_factor"):
        parse_config(cfg)
    cfg = preset_cfg("llama-3.1-8b")
    cfg["rope_scaling"] = {"factor": 8.0}
    with pytest.raises(ConfigError, match="rope_scaling.rope_type"):
        parse_config(cfg)


def test_unknown_family_lists_every_guess_and_never_defaults_theta():
    cfg = {"model_type": "brand_new_lm", "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4,
           "vocab_size": 1000, "rope_scaling": None, "hidden_act": "silu"}
    s = parse_config(cfg)
    assert s.family == "unknown" and s.model_type == "brand_new_lm"
    assert s.rope_theta is None and s.layer_rope_theta == [None] * 4
    text = " | ".join(s.warnings)
    for guessed in ("unknown model_type", "rope_theta absent", "num_key_value_heads absent",
                    "intermediate_size absent", "tie_word_embeddings absent", "gated", "T_train unknown",
                    "rotary_dim assumed"):
        assert guessed in text, guessed
    assert s.T_train is None


def test_unknown_family_with_positions_only_guesses_absolute():
    cfg = {"model_type": "oldlm", "n_embd": 128, "n_layer": 2, "n_head": 4, "vocab_size": 100,
           "n_positions": 512, "n_inner": 512, "tie_word_embeddings": True, "attention_bias": True}
    s = parse_config(cfg)
    assert s.position_encoding == "absolute" and any("absolute" in w for w in s.warnings)
    assert s.T_train == 512


def test_unknown_family_moe_is_flagged():
    cfg = {"model_type": "mixtral", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
           "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 100, "rope_theta": 1e6,
           "num_local_experts": 8, "num_experts_per_tok": 2, "max_position_embeddings": 4096,
           "tie_word_embeddings": False, "hidden_act": "silu", "attention_bias": False}
    s = parse_config(cfg)
    assert s.is_moe and s.n_params_active_M < s.n_params_M and any("MoE" in w for w in s.warnings)


def test_scaling_without_pre_scaling_context_is_flagged(preset_cfg):
    cfg = preset_cfg("phi-3.5-mini-instruct")
    del cfg["original_max_position_embeddings"]
    s = parse_config(cfg)
    assert s.T_train == 131072 and any("T_train" in w for w in s.warnings)
    cfg = preset_cfg("llama-2-7b")
    cfg["rope_scaling"] = {"type": "dynamic", "factor": 2.0}
    s = parse_config(cfg, name="meta-llama/Llama-2-7b-hf")
    assert s.T_train == 4096 and not s.warnings


def test_is_instruct_from_name_and_flagged_without_one(preset_cfg):
    cfg = preset_cfg("mistral-7b")
    assert parse_config(cfg, name="mistralai/Mistral-7B-Instruct-v0.2").is_instruct
    assert not parse_config(cfg, name="mistralai/Mistral-7B-v0.1").is_instruct
    s = parse_config(cfg)
    assert not s.is_instruct and any("is_instruct" in w for w in s.warnings)


def test_mutated_published_configs_raise_only_attnscope_errors():
    """Delete or retype every key of every preset: parse or a one-line AttnscopeError, nothing else."""
    import copy

    from attnscope.arch import resolve_source
    from attnscope.archparse.sources import preset_index
    from attnscope.errors import AttnscopeError

    n_errors = 0
    for name in preset_index():
        base = resolve_source(name).config
        for section in ([None, "text_config"] if "text_config" in base else [None]):
            keys = list(base[section] if section else base)
            for key in keys:
                for value in ("__delete__", "x", -1, None, [], {}, 0.5, True, 0):
                    cfg = copy.deepcopy(base)
                    target = cfg[section] if section else cfg
                    if value == "__delete__":
                        del target[key]
                    else:
                        target[key] = value
                    try:
                        parse_config(cfg, name=name)
                    except AttnscopeError as exc:
                        assert exc.field is not None and "\n" not in exc.one_line()
                        n_errors += 1
    assert n_errors > 100  # the mutations do hit validation


def test_unknown_family_reads_rotary_dim_key():
    cfg = {"model_type": "codegen", "n_embd": 1024, "n_layer": 2, "n_head": 16, "vocab_size": 100, "rotary_dim": 32,
           "n_positions": 2048, "n_inner": 4096, "tie_word_embeddings": False}
    s = parse_config(cfg, name="Salesforce/codegen-350M-mono")
    assert s.position_encoding == "rope" and s.rotary_dim == 32 and s.rope_theta is None
    assert any("rope_theta absent" in w for w in s.warnings)
