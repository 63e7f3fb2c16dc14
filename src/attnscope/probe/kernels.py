"""Attention maths for selected query rows: float32 logits, softmax rows and log Z.

Everything here works on the tensors an attention backend receives from a
transformers attention module (after rotary embedding, before ``o_proj``):

- ``query`` [B, H, Tq, D], ``key`` [B, Hkv, Tk, D], ``value`` [B, Hkv, Tk, Dv]
  with H = g * Hkv (grouped-query attention: query head h reads key head h // g,
  the order of ``transformers``' ``repeat_kv``);
- ``attention_mask``: ``None`` (plain causal, SDPA's ``is_causal``), a boolean
  mask [B or 1, 1, Tq, Tk] (True = visible, from ``sdpa_mask``: carries sliding
  windows and padding), or an additive float mask of the same shape.

Memory is O(B·H·Q·Tk) for Q selected rows: the T×T matrix is never formed.
Logits, softmax and log-sum-exp run in float32 whatever the model dtype.
"""
from __future__ import annotations

import torch

from attnscope.errors import ProtocolError

__all__ = ["row_logits", "normalise", "rows_and_log_z", "exact_attention", "check_finite"]

# Bytes of float32 logits one block of the exact (non-SDPA) path may hold.
_BLOCK_BYTES = 64 * 2**20


def row_logits(
    query: torch.Tensor,
    key: torch.Tensor,
    query_index: torch.Tensor,
    attention_mask: torch.Tensor | None,
    *,
    scaling: float,
    softcap: float | None = None,
    position_bias: torch.Tensor | None = None,
    causal: bool = True,
) -> torch.Tensor:
    """Masked float32 attention logits s[b, h, q, k] for the query rows ``query_index``.

    Parameters
    ----------
    query, key : Tensor
        [B, H, Tq, D] and [B, Hkv, Tk, D]; H must be a multiple of Hkv.
    query_index : LongTensor of shape (Q,)
        Indices into the query axis (0 <= i < Tq); with no KV cache these are
        absolute token positions.
    attention_mask : Tensor or None
        ``None`` = causal (key k visible from query i iff k <= i), or a boolean /
        additive-float 4-D mask broadcastable to [B, 1, Tq, Tk].
    scaling : float
        Multiplier of q·k (1/sqrt(D) by default in transformers; Gemma uses
        ``query_pre_attn_scalar ** -0.5``).
    softcap : float or None
        Gemma-2 soft-capping: s -> softcap · tanh(s / softcap), applied after
        scaling and before the mask (as in the eager reference).
    position_bias : Tensor or None
        Additive per-head bias [B, H, Tq, Tk], or [B, H, 1, Tk] for a per-key bias
        such as ALiBi (added after scaling, before the mask).
    causal : bool
        Only used when ``attention_mask`` is None.

    Returns
    -------
    Tensor of shape (B, H, Q, Tk), float32; invisible keys hold ``-inf``.
    """
    bsz, n_heads, _, d = query.shape
    n_kv = key.shape[1]
    group = n_heads // n_kv
    n_q = query_index.numel()
    t_k = key.shape[2]
    q = query.index_select(2, query_index).to(torch.float32)  # [B, H, Q, D]
    q = q.reshape(bsz, n_kv, group * n_q, d)  # head h = kv * group + r (repeat_kv order)
    k = key.to(torch.float32).transpose(-1, -2)  # [B', Hkv, D, Tk]
    s = torch.matmul(q, k).reshape(-1, n_heads, n_q, t_k)  # fresh tensor: in-place below is safe
    s.mul_(scaling)
    if softcap is not None:
        s = torch.tanh(s.div_(softcap)).mul_(softcap)
    if position_bias is not None:  # [B, H, Tq or 1, Tk]
        bias = position_bias if position_bias.shape[2] == 1 else position_bias.index_select(2, query_index)
        s.add_(bias.to(torch.float32))
    if attention_mask is None:
        if causal:
            keys = torch.arange(t_k, device=s.device)
            visible = keys[None, :] <= query_index.to(s.device)[:, None]  # [Q, Tk]
            s.masked_fill_(~visible, float("-inf"))
    elif attention_mask.dtype == torch.bool:
        visible = attention_mask.index_select(2, query_index.to(attention_mask.device))
        s = s.masked_fill_(~visible.to(s.device), float("-inf")) if visible.shape[0] == s.shape[0] \
            else s.masked_fill(~visible.to(s.device), float("-inf"))
    else:
        add = attention_mask.index_select(2, query_index.to(attention_mask.device)).to(torch.float32)
        # an additive mask uses finfo.min for hidden keys: make them exactly invisible
        s = torch.where(add <= torch.finfo(attention_mask.dtype).min / 2, float("-inf"), s + add)
    return s


def normalise(logits: torch.Tensor, sinks: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax rows and log Z of float32 logits [B, H, Q, Tk], computed in place.

    ``logits`` is overwritten by the rows (one [B, H, Q, Tk] buffer in all: the
    probe's memory is this tensor). Same algorithm as ``torch.softmax``
    (subtract the row max, exponentiate, divide by the sum); log Z = max + log(sum).

    With learned sink logits (gpt-oss ``s_aux``, one per head) Z also counts the
    sink: rows then sum to 1 − p_sink over the keys, exactly as in the eager
    reference, and log(rows) + log Z still equals the key logits.
    A row with no visible key (fully padded) gets zeros and log Z = −inf.
    """
    m = logits.amax(dim=-1, keepdim=True)  # [B, H, Q, 1]
    sink = None
    if sinks is not None:
        sink = sinks.to(device=logits.device, dtype=torch.float32).reshape(1, -1, 1, 1)
        m = torch.maximum(m, sink)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))  # all keys hidden: keep exp(-inf) = 0
    rows = logits.sub_(m).exp_()
    total = rows.sum(dim=-1, keepdim=True)
    if sink is not None:
        total = total + torch.exp(sink - m)
    empty = total == 0
    rows.div_(torch.where(empty, torch.ones_like(total), total))
    log_z = (m + torch.log(total)).squeeze(-1)  # -inf where no key is visible
    if bool(empty.any()):
        rows.masked_fill_(empty, 0.0)
    return rows, log_z


def _eager_softmax(logits: torch.Tensor, sinks: torch.Tensor | None) -> torch.Tensor:
    """Probabilities exactly as the eager references compute them (``torch.softmax``, the
    sink appended as one more column and dropped): used for layer outputs, where matching
    the eager arithmetic to the last bit keeps model logits within 1e-5 of it."""
    if sinks is not None:
        sink = sinks.to(device=logits.device, dtype=torch.float32).reshape(1, -1, 1, 1)
        full = torch.cat([logits, sink.expand(logits.shape[0], -1, logits.shape[2], 1)], dim=-1)
        return torch.softmax(full, dim=-1)[..., :-1]
    probs = torch.softmax(logits, dim=-1)
    hidden = (logits == float("-inf")).all(dim=-1, keepdim=True)  # no visible key: zeros (NaN stays NaN)
    return probs.masked_fill(hidden, 0.0) if bool(hidden.any()) else probs


def rows_and_log_z(
    query: torch.Tensor,
    key: torch.Tensor,
    query_index: torch.Tensor,
    attention_mask: torch.Tensor | None,
    *,
    scaling: float,
    softcap: float | None = None,
    sinks: torch.Tensor | None = None,
    position_bias: torch.Tensor | None = None,
    causal: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 softmax rows [B, H, Q, Tk] and log Z [B, H, Q] for the selected queries."""
    s = row_logits(query, key, query_index, attention_mask, scaling=scaling, softcap=softcap,
                   position_bias=position_bias, causal=causal)
    return normalise(s, sinks)


def exact_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    *,
    scaling: float,
    softcap: float | None = None,
    sinks: torch.Tensor | None = None,
    position_bias: torch.Tensor | None = None,
    causal: bool = True,
) -> torch.Tensor:
    """Attention output [B, Tq, H, Dv] for what SDPA cannot do (soft-capping, sinks).

    Processed in query blocks so that peak memory is O(B·H·block·Tk), never
    O(H·Tq·Tk); probabilities in float32, the weighted sum in the value dtype
    (as in the eager reference implementations).
    """
    bsz, n_heads, t_q, _ = query.shape
    n_kv, t_k, d_v = value.shape[1], value.shape[2], value.shape[3]
    group = n_heads // n_kv
    block = max(1, _BLOCK_BYTES // (4 * max(bsz, 1) * n_heads * max(t_k, 1)))
    out = torch.empty(bsz, t_q, n_heads, d_v, dtype=value.dtype, device=value.device)
    for start in range(0, t_q, block):
        idx = torch.arange(start, min(start + block, t_q), device=query.device)
        s = row_logits(query, key, idx, attention_mask, scaling=scaling, softcap=softcap,
                       position_bias=position_bias, causal=causal)
        rows = _eager_softmax(s, sinks)
        n_q = idx.numel()
        p = rows.to(value.dtype).reshape(-1, n_kv, group * n_q, t_k)  # [B, Hkv, g·q, Tk]
        o = torch.matmul(p, value).reshape(-1, n_heads, n_q, d_v)  # [B, H, q, Dv]
        out[:, start:start + n_q] = o.transpose(1, 2)
    return out


def check_finite(log_z: torch.Tensor, layer_idx: int, dtype: torch.dtype) -> None:
    """Raise :class:`ProtocolError` if log Z (or a row sum) is NaN or +inf.

    That means the forward itself went non-finite, typically fp16 overflow; the
    message says so and names the layer. (−inf is legitimate: a fully padded row.)
    """
    bad = torch.isnan(log_z) | (log_z == float("inf"))
    if bool(bad.any()):
        hint = ("float16 overflows easily (max 65504): rerun with --dtype bfloat16 or float32"
                if dtype == torch.float16 else "the model's weights or inputs contain NaN/inf")
        raise ProtocolError(
            f"non-finite attention logits at layer {layer_idx} ({int(bad.sum())} of {bad.numel()} "
            f"query rows; model dtype {str(dtype).removeprefix('torch.')}): {hint}",
            field="dtype", value=str(dtype).removeprefix("torch."),
        )
