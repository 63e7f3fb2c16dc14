"""GPT-J: its attention module bypasses the ``AttentionInterface`` but funnels through ``_attn``.

``GPTJAttention._attn(query, key, value, attention_mask)`` receives q and k after
the rotary embedding, [B, H, T, D]. Inside ``probing`` we override it per
instance: the output is computed by the exact float32-softmax kernel in query
blocks (same arithmetic as the eager method: fp32 scores / sqrt(d), softmax,
probabilities cast to the value dtype, @ V) and the selected rows and log Z go
to the reducer. The model's config is switched to the probe backend so the
mask is the SDPA-style one (``None`` = causal, or a boolean mask with padding)
instead of eager's float [B, 1, T, T]: no O(T²) tensor is formed.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from attnscope.errors import UnsupportedModelError
from attnscope.probe.kernels import check_finite, exact_attention, rows_and_log_z

__all__ = ["gptj_attention_override"]


def _make_attn(module: torch.nn.Module, state: Any, layer_idx: int):
    scaling = 1.0 / float(module.scale_attn)

    def _attn(query, key, value, attention_mask=None):
        out = exact_attention(query, key, value, attention_mask, scaling=scaling, causal=True)  # [B, T, H, D]
        idx = state.index_for(query.shape[2], query.device)
        rows, log_z = rows_and_log_z(query, key, idx, attention_mask, scaling=scaling, causal=True)
        check_finite(log_z, layer_idx, query.dtype)
        state.layers_seen.append(layer_idx)
        state.reducer(layer_idx, rows, log_z)
        return out.transpose(1, 2), None  # [B, H, T, D] as the eager _attn returns

    return _attn


@contextlib.contextmanager
def gptj_attention_override(state: Any, modules: list[tuple[int, torch.nn.Module]]) -> Iterator[None]:
    """Override ``_attn`` of every GPT-J attention module; restored in ``finally``."""
    patched: list[tuple[torch.nn.Module, object]] = []
    try:
        for layer_idx, module in modules:
            if not hasattr(module, "_attn"):
                raise UnsupportedModelError(
                    f"GPT-J attention class {type(module).__name__} has no eager `_attn` to read "
                    "(load the model with the default attention implementation)",
                    field="attn_implementation", value=type(module).__name__)
            patched.append((module, module.__dict__.get("_attn")))
            module._attn = _make_attn(module, state, layer_idx)
        yield
    finally:
        for module, previous in patched:
            if previous is None:
                del module._attn
            else:
                module._attn = previous
