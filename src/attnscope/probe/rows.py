"""Public probe API: attention rows, log partition and the streaming forward.

- :func:`probe_forward` runs ONE ordinary forward pass (SDPA for the output) and
  streams each layer's selected rows to a reducer: memory does not grow with
  T·Q·L (what ``attnscope.measure`` uses).
- :func:`attention_rows` / :func:`log_partition` collect everything into one
  tensor: convenient for small uses and tests (memory L·H·Q·T·4 bytes).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from attnscope.errors import ProtocolError, UnsupportedModelError
from attnscope.probe.backend import Reducer, probing

__all__ = ["probe_forward", "attention_rows", "log_partition", "rows_and_log_partition"]


def _as_batch(model: torch.nn.Module, input_ids: torch.Tensor | Sequence[int]) -> torch.Tensor:
    ids = torch.as_tensor(input_ids)
    if ids.ndim == 1:
        ids = ids[None, :]
    if ids.ndim != 2 or ids.shape[-1] == 0:
        raise ProtocolError("input_ids must have shape [T] or [B, T] with T >= 1",
                            field="input_ids", value=tuple(ids.shape))
    if ids.is_floating_point():
        raise ProtocolError("input_ids must be integer token ids", field="input_ids", value=str(ids.dtype))
    device = next((p.device for p in model.parameters() if p.device.type != "meta"), torch.device("cpu"))
    return ids.to(device=device, dtype=torch.long)


def probe_forward(
    model: torch.nn.Module,
    input_ids: torch.Tensor | Sequence[int],
    query_positions: Sequence[int] | torch.Tensor,
    reducer: Reducer,
    *,
    mlp_chunk: int | None = None,
    **forward_kwargs: Any,
) -> Any:
    """One forward pass that streams every layer's attention rows to ``reducer``.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Causal LM (eval mode is set for the pass and restored afterwards).
    input_ids : LongTensor of shape (T,) or (B, T)
        Token ids; with no KV cache query position i is token i.
    query_positions : sequence of int
        Q positions 0 <= i < T whose rows are read.
    reducer : callable
        ``reducer(layer_idx: int, rows: Tensor[B, H, Q, T] float32,
        log_z: Tensor[B, H, Q] float32)``, called once per layer as it runs.
        rows sum to 1 over the keys visible from each query (causal, window,
        padding; minus the sink probability for models with learned sinks) and
        are 0 elsewhere; the logits are s = log(rows) + log_z on visible keys.
        The tensors are freshly allocated: the reducer may keep them.
    mlp_chunk : int, optional
        Run each layer MLP in sequence chunks of this many tokens (exact; for long T).
    **forward_kwargs
        Passed to ``model(...)``, e.g. ``attention_mask``, or ``logits_to_keep=1``
        (skips the T × vocab logits: 31 GiB for Llama-3 at T = 131072);
        ``use_cache`` is False.

    Returns
    -------
    The model's output (``logits`` etc.), computed through the normal SDPA path.
    """
    ids = _as_batch(model, input_ids)
    forward_kwargs.setdefault("use_cache", False)
    with probing(model, query_positions, reducer, mlp_chunk=mlp_chunk) as state, torch.no_grad():
        out = model(input_ids=ids, **forward_kwargs)
    if not state.layers_seen:
        raise UnsupportedModelError("no attention layer reported rows during the forward pass",
                                    field="model_type", value=state.family)
    return out


def rows_and_log_partition(
    model: torch.nn.Module,
    input_ids: torch.Tensor | Sequence[int],
    query_positions: Sequence[int] | torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both :func:`attention_rows` and :func:`log_partition` from one forward pass."""
    ids = _as_batch(model, input_ids)
    if ids.shape[0] != 1:
        raise ProtocolError("attention_rows takes one sequence ([T] or [1, T]); use probe_forward for batches",
                            field="input_ids", value=tuple(ids.shape))
    got: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def keep(layer_idx: int, rows: torch.Tensor, log_z: torch.Tensor) -> None:
        if layer_idx in got:
            raise UnsupportedModelError(f"layer {layer_idx} reported attention twice in one forward",
                                        field="layer_idx", value=layer_idx)
        got[layer_idx] = (rows[0], log_z[0])

    probe_forward(model, ids, query_positions, keep)
    layers = sorted(got)
    if layers != list(range(len(layers))):
        raise UnsupportedModelError("attention layers reported non-contiguous indices",
                                    field="layer_idx", value=layers)
    shapes = {tuple(got[i][0].shape) for i in layers}
    if len(shapes) != 1:
        raise UnsupportedModelError("layers have different numbers of heads; use probe_forward",
                                    field="heads_per_layer", value=sorted(shapes))
    rows = torch.stack([got[i][0] for i in layers])  # [L, H, Q, T]
    log_z = torch.stack([got[i][1] for i in layers])  # [L, H, Q]
    return rows, log_z


def attention_rows(
    model: torch.nn.Module,
    input_ids: torch.Tensor | Sequence[int],
    query_positions: Sequence[int] | torch.Tensor,
) -> torch.Tensor:
    """Softmax attention rows of the chosen queries, every layer and head.

    Returns
    -------
    Tensor of shape (n_layers, n_heads, Q, T), float32: row [l, h, q] is the
    attention of query ``query_positions[q]`` over the T keys; it sums to 1 over
    the visible (causal / in-window) keys and is 0 elsewhere.
    """
    return rows_and_log_partition(model, input_ids, query_positions)[0]


def log_partition(
    model: torch.nn.Module,
    input_ids: torch.Tensor | Sequence[int],
    query_positions: Sequence[int] | torch.Tensor,
) -> torch.Tensor:
    """log Z = logsumexp of the (scaled, soft-capped) logits over visible keys, nats.

    Returns
    -------
    Tensor of shape (n_layers, n_heads, Q), float32 (NaN for families that fall
    back to eager attention, whose modules return probabilities only).
    """
    return rows_and_log_partition(model, input_ids, query_positions)[1]
