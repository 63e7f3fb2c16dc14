"""Tiny seeded random-init models, one per family, built in-process from configs.

Weights are drawn with a large ``initializer_range`` so that attention rows are
far from uniform (a probe-vs-eager comparison on near-uniform rows would prove
little). Sizes: hidden 32-64, 2 layers, vocab 128.
"""
from __future__ import annotations

import functools

import torch

VOCAB = 128
INIT = 0.3

# family -> (model_type, config overrides). Window sizes < T exercise sliding masks.
FAMILY_CONFIGS: dict[str, tuple[str, dict]] = {
    "llama": ("llama", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                            num_key_value_heads=2)),
    "mistral": ("mistral", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                                num_key_value_heads=2, sliding_window=8)),
    "qwen2": ("qwen2", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                            num_key_value_heads=2, use_sliding_window=True, sliding_window=8,
                            max_window_layers=1)),
    "qwen3": ("qwen3", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                            num_key_value_heads=2, head_dim=16)),
    "gemma": ("gemma", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                            num_key_value_heads=1, head_dim=16)),
    "gemma2": ("gemma2", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                              num_key_value_heads=2, head_dim=16, sliding_window=8,
                              attn_logit_softcapping=2.0, final_logit_softcapping=30.0,
                              query_pre_attn_scalar=24)),
    "gemma3": ("gemma3_text", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                                   num_key_value_heads=2, head_dim=16, sliding_window=8,
                                   query_pre_attn_scalar=24,
                                   layer_types=["sliding_attention", "full_attention"])),
    "phi": ("phi", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                        partial_rotary_factor=0.5)),
    "phi3": ("phi3", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                          num_key_value_heads=2, pad_token_id=0)),
    "gpt_neox": ("gpt_neox", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                                  rotary_pct=0.25)),
    "gptj": ("gptj", dict(n_embd=64, n_head=4, rotary_dim=8, n_positions=128)),
    "olmo": ("olmo", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4)),
    "olmo2": ("olmo2", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4)),
    "falcon": ("falcon", dict(hidden_size=64, num_attention_heads=4, multi_query=True,
                              new_decoder_architecture=False, alibi=False)),
    "falcon_alibi": ("falcon", dict(hidden_size=64, num_attention_heads=4, alibi=True,
                                    multi_query=False)),
    "bloom": ("bloom", dict(hidden_size=64, n_head=4)),
    # bypassing families without a dedicated reader: generic eager fallback (log Z = NaN)
    "gpt_neo": ("gpt_neo", dict(hidden_size=64, num_heads=4, num_layers=2, window_size=8,
                                attention_types=[[["global", "local"], 1]])),
    "codegen": ("codegen", dict(n_embd=64, n_head=4, n_layer=2, rotary_dim=8, n_positions=128, n_ctx=128)),
    "gpt2": ("gpt2", dict(n_embd=64, n_head=4, n_positions=128)),
    "starcoder2": ("starcoder2", dict(hidden_size=64, intermediate_size=96, num_attention_heads=4,
                                      num_key_value_heads=2, sliding_window=8)),
    "deepseek_v3": ("deepseek_v3", dict(hidden_size=64, intermediate_size=96, moe_intermediate_size=32,
                                        num_attention_heads=4, num_key_value_heads=4,
                                        kv_lora_rank=16, q_lora_rank=24, qk_rope_head_dim=8,
                                        qk_nope_head_dim=16, v_head_dim=16, n_routed_experts=4,
                                        num_experts_per_tok=2, n_group=1, topk_group=1,
                                        first_k_dense_replace=1, n_shared_experts=1)),
    "deepseek_v2": ("deepseek_v2", dict(hidden_size=64, intermediate_size=96, moe_intermediate_size=32,
                                        num_attention_heads=4, num_key_value_heads=4,
                                        kv_lora_rank=16, q_lora_rank=None, qk_rope_head_dim=8,
                                        qk_nope_head_dim=16, v_head_dim=16, n_routed_experts=4,
                                        num_experts_per_tok=2, n_group=1, topk_group=1,
                                        first_k_dense_replace=1, n_shared_experts=1)),
    "gpt_oss": ("gpt_oss", dict(hidden_size=64, intermediate_size=64, num_attention_heads=4,
                                num_key_value_heads=2, head_dim=16, num_local_experts=4,
                                num_experts_per_tok=2, sliding_window=8,
                                layer_types=["sliding_attention", "full_attention"])),
}


def tiny_model(family: str, *, seed: int = 0, dtype: torch.dtype = torch.float32,
               attn_implementation: str | None = None) -> torch.nn.Module:
    """A seeded 2-layer random-init causal LM of ``family`` in eval mode."""
    from transformers import AutoConfig, AutoModelForCausalLM

    model_type, overrides = FAMILY_CONFIGS[family]
    kw = dict(vocab_size=VOCAB, num_hidden_layers=2, initializer_range=INIT, max_position_embeddings=128)
    if model_type in ("gpt2", "gptj", "bloom", "codegen"):
        kw.pop("num_hidden_layers")
        kw.pop("max_position_embeddings")
        kw["n_layer"] = 2
    if model_type == "gpt_neo":
        kw.pop("num_hidden_layers")
    kw.update(overrides)
    config = AutoConfig.for_model(model_type, **kw)
    torch.manual_seed(seed)
    extra = {} if attn_implementation is None else {"attn_implementation": attn_implementation}
    model = AutoModelForCausalLM.from_config(config, dtype=dtype, **extra)
    return model.eval()


T = 40  # prompt length of the probe tests
QUERIES = [0, 3, 8, 17, 39]


@functools.lru_cache(maxsize=None)
def cached_model(family: str) -> torch.nn.Module:
    return tiny_model(family)
