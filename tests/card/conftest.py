"""Published config.json values (abridged to the keys the parser reads) for card/fit tests."""
import pytest

from attnscope.arch import parse_config

CONFIGS = {
    # google/gemma-2-9b config.json: θ = 1e4 on every layer, sliding window 4096 on even layers.
    "gemma-2-9b": {"architectures": ["Gemma2ForCausalLM"], "attn_logit_softcapping": 50.0,
                   "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
                   "hidden_size": 3584, "intermediate_size": 14336, "max_position_embeddings": 8192,
                   "model_type": "gemma2", "num_attention_heads": 16, "num_hidden_layers": 42,
                   "num_key_value_heads": 8, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06,
                   "rope_theta": 10000.0, "sliding_window": 4096, "vocab_size": 256000},
    # google/gemma-3-1b-it: global θ = 1e6, local θ = 1e4 with window 512, pattern 5 local : 1 global.
    "gemma-3-1b": {"architectures": ["Gemma3ForCausalLM"], "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
                   "hidden_size": 1152, "intermediate_size": 6912, "max_position_embeddings": 32768,
                   "model_type": "gemma3_text", "num_attention_heads": 4, "num_hidden_layers": 26,
                   "num_key_value_heads": 1, "query_pre_attn_scalar": 256, "rope_local_base_freq": 10000,
                   "rope_scaling": None, "rope_theta": 1000000, "sliding_window": 512,
                   "sliding_window_pattern": 6, "vocab_size": 262144},
    # meta-llama/Meta-Llama-3-8B: GQA 32/8.
    "llama-3-8b": {"architectures": ["LlamaForCausalLM"], "hidden_act": "silu", "hidden_size": 4096,
                   "intermediate_size": 14336, "max_position_embeddings": 8192, "model_type": "llama",
                   "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
                   "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 500000.0,
                   "tie_word_embeddings": False, "vocab_size": 128256},
    # bigscience/bloom-560m: ALiBi.
    "bloom-560m": {"architectures": ["BloomForCausalLM"], "model_type": "bloom", "hidden_size": 1024, "n_head": 16,
                   "n_layer": 24, "vocab_size": 250880, "seq_length": 2048},
    # openai-community/gpt2: absolute positions.
    "gpt2": {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
             "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024, "vocab_size": 50257},
    # state-spaces/mamba-130m-hf: no attention.
    "mamba-130m": {"model_type": "mamba", "hidden_size": 768, "num_hidden_layers": 24, "vocab_size": 50280,
                   "state_size": 16, "expand": 2, "conv_kernel": 4, "intermediate_size": 1536, "time_step_rank": 48},
    # deepseek-ai/DeepSeek-V2-Lite: MLA (kv_lora_rank 512 + qk_rope_head_dim 64), YaRN ×40.
    "deepseek-v2-lite": {"model_type": "deepseek_v2", "hidden_size": 2048, "intermediate_size": 10944,
                         "moe_intermediate_size": 1408, "num_hidden_layers": 27, "num_attention_heads": 16,
                         "num_key_value_heads": 16, "n_shared_experts": 2, "n_routed_experts": 64,
                         "num_experts_per_tok": 6, "first_k_dense_replace": 1, "kv_lora_rank": 512,
                         "q_lora_rank": None, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128,
                         "max_position_embeddings": 163840, "rope_theta": 10000,
                         "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                                          "beta_fast": 32, "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
                         "vocab_size": 102400, "tie_word_embeddings": False, "moe_layer_freq": 1},
}


@pytest.fixture(scope="session")
def archs():
    return {name: parse_config(cfg, name=name) for name, cfg in CONFIGS.items()}
