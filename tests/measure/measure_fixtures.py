"""Tiny in-process models for the measure tests (imported by conftest and the tests)."""
from __future__ import annotations

import torch

TINY = dict(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128, rope_theta=10000.0)


def tiny_llama(seed: int = 0, **overrides):
    """A 2-layer, 4-head Llama (hidden 32, context 128) with seeded random weights."""
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(LlamaConfig(**{**TINY, **overrides})).eval()


def zero_queries(model) -> None:
    """Zero every query projection: all logits are 0 and attention is exactly uniform."""
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.q_proj.weight.zero_()
            if layer.self_attn.q_proj.bias is not None:
                layer.self_attn.q_proj.bias.zero_()
