"""One test per family, on its real published config.json (the bundled presets)."""
from __future__ import annotations

import pytest

from attnscope.arch import load_arch


def test_llama1_theta_from_family_default_is_a_note_not_a_warning():
    s = load_arch("huggyllama/llama-7b")
    assert (s.family, s.position_encoding, s.n_heads, s.n_kv_heads, s.d_head) == ("llama", "rope", 32, 32, 128)
    assert s.rope_theta == 10000.0 and s.rotary_dim == 128
    assert s.T_train == 2048 and s.rope_scaling is None
    assert any("rope_theta" in n for n in s.notes) and not s.warnings


def test_llama2_13b_and_llama3_gqa():
    s2 = load_arch("llama-2-13b")
    assert (s2.d_model, s2.n_layers, s2.n_heads, s2.n_kv_heads, s2.T_train) == (5120, 40, 40, 40, 4096)
    s3 = load_arch("meta-llama/Meta-Llama-3-8B")
    assert (s3.n_kv_heads, s3.rope_theta, s3.T_train, s3.vocab_size) == (8, 500000.0, 8192, 128256)


def test_llama31_llama3_rope_scaling_sets_T_train_to_original():
    s = load_arch("llama-3.1-8b")
    assert s.rope_scaling["type"] == "llama3" and s.rope_scaling["factor"] == 8.0
    assert s.rope_scaling["low_freq_factor"] == 1.0 and s.rope_scaling["high_freq_factor"] == 4.0
    assert s.T_train == 8192 and s.context_length == 131072


def test_llama32_explicit_head_dim_and_tied_embeddings():
    s = load_arch("meta-llama/Llama-3.2-1B")
    assert s.d_head == 64 and s.tie_word_embeddings and s.rope_scaling["factor"] == 32.0 and s.T_train == 8192


def test_llama_architecture_models_take_llama_family():
    for name in ("smollm2-135m", "codellama-13b-instruct", "deepseek-llm-7b-base"):
        assert load_arch(name).family == "llama"
    assert load_arch("codellama-13b-instruct").rope_theta == 1e6
    assert load_arch("codellama-13b-instruct").is_instruct
    assert not load_arch("deepseek-llm-7b-base").is_instruct


def test_mistral_sliding_window_on_every_layer():
    s = load_arch("mistral-7b")
    assert s.sliding_window == 4096 and s.layer_window == [4096] * 32
    assert s.layer_types == ["sliding_attention"] * 32 and s.n_kv_heads == 8


def test_mistral_nemo_head_dim_not_hidden_over_heads():
    s = load_arch("mistral-nemo-instruct")
    assert s.d_model // s.n_heads == 160 and s.d_head == 128 and s.rotary_dim == 128
    assert s.sliding_window is None and s.layer_window == [None] * 40 and s.is_instruct


def test_qwen25_declared_but_disabled_window():
    s = load_arch("qwen2.5-7b")
    assert s.family == "qwen2" and s.sliding_window is None and all(w is None for w in s.layer_window)
    assert any("use_sliding_window=false" in n for n in s.notes)
    assert s.rope_theta == 1e6 and s.n_kv_heads == 4


def test_qwen3_explicit_head_dim():
    s = load_arch("Qwen/Qwen3-4B")
    assert s.family == "qwen3" and s.d_head == 128 and s.d_model // s.n_heads == 80 and s.rotary_dim == 128


@pytest.mark.parametrize("name,rotary", [("pythia-70m", 16), ("pythia-1b", 64), ("pythia-2.8b", 20)])
def test_gpt_neox_rotary_pct_and_rotary_emb_base(name, rotary):
    s = load_arch(name)
    assert s.family == "gpt_neox" and s.rotary_dim == rotary and s.rotary_dim == int(s.d_head * 0.25)
    assert s.rope_theta == 10000.0 and s.T_train == 2048 and not s.warnings


def test_gptj_fixed_theta_is_noted_as_architecture_value():
    s = load_arch("EleutherAI/gpt-j-6B")
    assert s.family == "gptj" and s.rotary_dim == 64 and s.d_head == 256 and s.rope_theta == 10000.0
    assert not s.warnings
    assert any("hard-coded" in n for n in s.notes)


def test_phi2_partial_rotary_factor():
    s = load_arch("microsoft/phi-2")
    assert s.family == "phi" and s.d_head == 80 and s.rotary_dim == 32 and s.rotary_fraction == pytest.approx(0.4)


def test_phi3_mini_window_and_phi35_longrope():
    s = load_arch("phi-3-mini-4k-instruct")
    assert s.family == "phi3" and s.rope_scaling is None and s.T_train == 4096 and s.sliding_window == 2047
    s35 = load_arch("microsoft/Phi-3.5-mini-instruct")
    sc = s35.rope_scaling
    assert sc["type"] == "longrope" and sc["original_max_position_embeddings"] == 4096
    assert len(sc["long_factor"]) == len(sc["short_factor"]) == s35.rotary_dim // 2 == 48
    assert s35.T_train == 4096 and s35.context_length == 131072 and s35.is_instruct


def test_gemma2_alternating_local_global_and_softcaps():
    s = load_arch("gemma-2-9b-it")
    assert s.layer_types[:2] == ["sliding_attention", "full_attention"]
    assert s.layer_window[:4] == [4096, None, 4096, None] and s.layer_window.count(None) == 21
    assert set(s.layer_rope_theta) == {10000.0}
    assert (s.attn_logit_softcapping, s.final_logit_softcapping, s.query_pre_attn_scalar) == (50.0, 30.0, 256.0)
    assert s.d_head == 256 and s.is_instruct


def test_gemma3_nested_text_config_local_global_theta():
    s = load_arch("google/gemma-3-4b-it")
    assert s.family == "gemma3" and s.n_layers == 34 and s.d_head == 256
    full = [i for i, t in enumerate(s.layer_types) if t == "full_attention"]
    assert full == [5, 11, 17, 23, 29]
    assert all(s.layer_rope_theta[i] == 1e6 and s.layer_window[i] is None for i in full)
    assert all(s.layer_rope_theta[i] == 1e4 and s.layer_window[i] == 1024
               for i in range(34) if i not in full)
    assert s.rope_theta == 1e6 and s.rope_scaling == {"type": "linear", "factor": 8.0}
    # sparse export: values taken from the Gemma3TextConfig defaults are listed as notes
    assert any("num_attention_heads absent" in n for n in s.notes)
    assert any("T_train" in w for w in s.warnings)  # pre-scaling context not in config: guessed, flagged
    groups = s.layer_groups()
    assert [len(g.layers) for g in groups] == [29, 5]


def test_falcon_multi_query_and_bloom_alibi():
    f = load_arch("tiiuae/falcon-7b")
    assert f.family == "falcon" and f.n_kv_heads == 1 and f.multi_query and not f.alibi
    assert f.position_encoding == "rope" and f.d_head == 64 and f.rope_theta == 10000.0
    b = load_arch("bigscience/bloom-7b1")
    assert b.family == "bloom" and b.position_encoding == "alibi" and b.alibi
    assert b.rope_theta is None and b.rotary_dim is None and b.layer_rope_theta == [None] * 30


def test_falcon_alibi_flag_and_new_decoder_architecture(preset_cfg):
    from attnscope.arch import parse_config

    cfg = preset_cfg("falcon-7b")
    cfg["alibi"] = True
    assert parse_config(cfg).position_encoding == "alibi"
    cfg = preset_cfg("falcon-7b")
    cfg.update(new_decoder_architecture=True, num_kv_heads=8, num_attention_heads=64, hidden_size=4096)
    s = parse_config(cfg)
    assert s.n_kv_heads == 8 and not s.multi_query


def test_gpt2_absolute_positions():
    for name, (d, L, H) in {"gpt2": (768, 12, 12), "gpt2-xl": (1600, 48, 25)}.items():
        s = load_arch(name)
        assert (s.family, s.position_encoding, s.d_model, s.n_layers, s.n_heads) == ("gpt2", "absolute", d, L, H)
        assert s.rope_theta is None and s.T_train == 1024 and s.tie_word_embeddings
    c = load_arch("cerebras/Cerebras-GPT-2.7B")
    assert c.family == "gpt2" and c.T_train == 2048 and c.intermediate_size == 10240


def test_olmo_original_and_hf_formats_agree():
    a, b = load_arch("allenai/OLMo-7B"), load_arch("allenai/OLMo-7B-hf")
    assert a.model_type == "hf_olmo" and b.model_type == "olmo" and a.family == b.family == "olmo"
    for f in ("d_model", "n_layers", "n_heads", "n_kv_heads", "d_head", "rope_theta", "T_train", "intermediate_size"):
        assert getattr(a, f) == getattr(b, f), f
    assert a.n_params_M == pytest.approx(b.n_params_M, rel=1e-4)


def test_olmo2():
    s = load_arch("allenai/OLMo-2-1124-7B")
    assert s.family == "olmo2" and s.rope_theta == 500000.0 and s.T_train == 4096


def test_deepseek_mla_and_yarn():
    s = load_arch("deepseek-ai/DeepSeek-V2-Lite")
    assert s.family == "deepseek_v2" and s.is_moe
    assert s.mla == {"kv_lora_rank": 512, "q_lora_rank": None, "qk_rope_head_dim": 64,
                     "qk_nope_head_dim": 128, "v_head_dim": 128}
    assert s.rotary_dim == 64 and s.d_head == 192
    assert s.rope_scaling["type"] == "yarn" and s.rope_scaling["factor"] == 40.0
    assert s.T_train == 4096 and s.context_length == 163840
    v3 = load_arch("deepseek-v3")
    assert v3.family == "deepseek_v3" and v3.mla["q_lora_rank"] == 1536 and v3.rotary_dim == 64


def test_mamba_has_no_attention():
    s = load_arch("state-spaces/mamba-130m-hf")
    assert (s.family, s.position_encoding, s.n_heads, s.n_kv_heads, s.d_head) == ("mamba", "none", 0, 0, 0)
    assert s.rope_theta is None and s.layer_rope_theta == [None] * 24 and not s.has_attention
