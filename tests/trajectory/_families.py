"""Tiny configs (hidden 32-64, 2-3 layers) of every family the name maps know."""
from __future__ import annotations

_BASE = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             intermediate_size=64, vocab_size=64, max_position_embeddings=128)
_DS = dict(kv_lora_rank=8, qk_rope_head_dim=4, qk_nope_head_dim=4, v_head_dim=8, n_routed_experts=4,
           num_experts_per_tok=2, first_k_dense_replace=1, moe_intermediate_size=16, n_shared_experts=1,
           n_group=1, topk_group=1, num_hidden_layers=3)

TINY_CONFIGS: dict[str, dict] = {
    "llama": dict(model_type="llama", **_BASE),
    "mistral": dict(model_type="mistral", **_BASE),
    "qwen2": dict(model_type="qwen2", **_BASE),
    "qwen3": dict(model_type="qwen3", head_dim=8, **_BASE),
    "gemma": dict(model_type="gemma", head_dim=8, **_BASE),
    "gemma2": dict(model_type="gemma2", head_dim=8, **_BASE),
    "gemma3": dict(model_type="gemma3_text", head_dim=8, **_BASE),
    "olmo": dict(model_type="olmo", **_BASE),
    "olmo2": dict(model_type="olmo2", **_BASE),
    "phi": dict(model_type="phi", **_BASE),
    "phi3": dict(model_type="phi3", pad_token_id=0, bos_token_id=1, eos_token_id=2, **_BASE),
    "gpt_neox": dict(model_type="gpt_neox", **{**_BASE, "num_key_value_heads": 4}),
    "gptj": dict(model_type="gptj", n_embd=32, n_layer=2, n_head=4, rotary_dim=4, vocab_size=64, n_positions=128),
    "gpt2": dict(model_type="gpt2", n_embd=32, n_layer=2, n_head=4, vocab_size=64, n_positions=128),
    "bloom": dict(model_type="bloom", hidden_size=32, n_layer=2, n_head=4, vocab_size=64),
    "falcon": dict(model_type="falcon", hidden_size=32, num_hidden_layers=2, num_attention_heads=4, vocab_size=64,
                   multi_query=True, parallel_attn=True, new_decoder_architecture=False),
    "falcon_gqa": dict(model_type="falcon", hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_kv_heads=2,
                       vocab_size=64, new_decoder_architecture=True),
    "falcon_mha": dict(model_type="falcon", hidden_size=32, num_hidden_layers=2, num_attention_heads=4, vocab_size=64,
                       multi_query=False, parallel_attn=False, new_decoder_architecture=False, num_kv_heads=4),
    "deepseek_v2": dict(model_type="deepseek_v2", **{**_BASE, **_DS, "q_lora_rank": None}),
    "deepseek_v3": dict(model_type="deepseek_v3", **{**_BASE, **_DS, "q_lora_rank": 12}),
    "mamba": dict(model_type="mamba", hidden_size=32, num_hidden_layers=2, vocab_size=64, state_size=4),
}


def build_tiny(cfg: dict, seed: int = 0):
    """A float32 eval-mode random-init model of a raw config dict."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    config = AutoConfig.for_model(cfg["model_type"], **{k: v for k, v in cfg.items() if k != "model_type"})
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
