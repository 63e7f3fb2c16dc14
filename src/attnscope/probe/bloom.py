"""BLOOM: its attention module bypasses the ``AttentionInterface`` and has only an eager path.

The model keeps computing its layer output eagerly (O(H·T²) while a layer runs;
``probing`` warns). A forward hook on each ``BloomAttention`` recomputes q and k
from the module input (fused QKV, ``_reshape``) and reads the selected rows as
the module does: logits = q·k / sqrt(d) + ALiBi (per head and key, passed in by
the model) + the additive mask, softmax in float32. Unlike reading the returned
probabilities, this also gives log Z.
"""
from __future__ import annotations

from typing import Any

from attnscope.errors import UnsupportedModelError
from attnscope.probe.kernels import check_finite, rows_and_log_z

__all__ = ["bloom_rows_hook"]


def bloom_rows_hook(state: Any, layer_idx: int):
    """A ``register_forward_hook(..., with_kwargs=True)`` hook feeding ``state.reducer``."""

    def hook(module, args, kwargs, output):
        hidden = args[0] if args else kwargs["hidden_states"]
        alibi = args[2] if len(args) > 2 else kwargs.get("alibi")
        mask = args[3] if len(args) > 3 else kwargs.get("attention_mask")
        if alibi is None:
            raise UnsupportedModelError("BLOOM attention was called without its ALiBi tensor",
                                        field="model_type", value="bloom")
        q, k, _ = module._reshape(module.query_key_value(hidden))  # [B, H, T, D] each
        bsz, n_heads, t, _ = q.shape
        if k.shape[2] != t:
            raise UnsupportedModelError("the BLOOM row reader runs without a KV cache (use_cache=False)",
                                        field="use_cache", value=True)
        bias = alibi.reshape(bsz, n_heads, 1, -1)  # [B, H, 1, T]: ALiBi of each key
        idx = state.index_for(t, q.device)
        rows, log_z = rows_and_log_z(q, k, idx, mask, scaling=float(module.inv_norm_factor),
                                     position_bias=bias, causal=True)
        check_finite(log_z, layer_idx, q.dtype)
        state.layers_seen.append(layer_idx)
        state.reducer(layer_idx, rows, log_z)
        return output[0], None  # drop the T x T probabilities at once

    return hook
