"""Row reader for Falcon, whose HF attention module bypasses the ``AttentionInterface``.

Falcon is not read from eager weights: in transformers 5.23 its eager path adds
ALiBi twice (once to the scores, once more through the causal mask the model
folds ALiBi into), so eager ``output_attentions`` rows differ from the SDPA path
that produces the model's output. Instead the model keeps its SDPA path and a
forward hook on each ``FalconAttention`` recomputes q and k from the module input
(fused QKV projection, head split, rotary when the model has no ALiBi) and reads
the selected rows against the very mask SDPA received (which carries ALiBi/√d
for ALiBi models). log Z is available, memory is O(B·H·Q·T) per layer on top of
what the model itself allocates.
"""
from __future__ import annotations

from typing import Any

import torch

from attnscope.errors import UnsupportedModelError
from attnscope.probe.kernels import check_finite, rows_and_log_z

__all__ = ["falcon_rows_hook"]


def falcon_rows_hook(state: Any, layer_idx: int):
    """A ``register_forward_hook(..., with_kwargs=True)`` hook feeding ``state.reducer``."""
    from transformers.models.falcon.modeling_falcon import apply_rotary_pos_emb

    def hook(module, args, kwargs, output):
        hidden = args[0] if args else kwargs["hidden_states"]
        if kwargs.get("layer_past") is not None and kwargs["layer_past"].get_seq_length(layer_idx) > hidden.shape[1]:
            raise UnsupportedModelError("the Falcon row reader runs without a KV cache (use_cache=False)",
                                        field="use_cache", value=True)
        alibi = kwargs.get("alibi")
        mask = kwargs.get("attention_mask")
        q, k, _ = module._split_heads(module.query_key_value(hidden))  # [B, T, heads, D] each
        bsz, t = q.shape[0], q.shape[1]
        n_kv = module.num_heads if module.new_decoder_architecture else module.num_kv_heads
        q = q.transpose(1, 2).reshape(bsz, module.num_heads, t, module.head_dim)
        k = k.transpose(1, 2).reshape(bsz, n_kv, t, module.head_dim)
        if alibi is None:
            cos, sin = kwargs["position_embeddings"]
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
        idx = state.index_for(t, q.device)
        rows, log_z = rows_and_log_z(q, k, idx, mask, scaling=module.head_dim ** -0.5,
                                     causal=bool(getattr(module, "is_causal", True)))
        check_finite(log_z, layer_idx, q.dtype)
        state.layers_seen.append(layer_idx)
        state.reducer(layer_idx, rows, log_z)
        return output

    return hook
