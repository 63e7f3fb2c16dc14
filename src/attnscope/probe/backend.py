"""The attnscope attention backend and the ``probing`` context manager.

Inside ``with probing(model, query_positions, reducer):`` every attention layer
of ``model`` runs :func:`probe_attention_forward`, registered under the name
:data:`BACKEND_NAME` in transformers' ``AttentionInterface`` and, with it, the
SDPA mask builder in ``AttentionMaskInterface`` (without a mask function under
our name transformers would skip mask creation entirely, dropping sliding-window
and padding masks). The backend

1. computes the layer output exactly as the ``sdpa`` backend does (or, where SDPA
   cannot — Gemma-2 soft-capping, gpt-oss sink logits — by an exact float32
   softmax in query blocks, :func:`attnscope.probe.kernels.exact_attention`);
2. computes float32 softmax rows and log Z for the selected query positions only
   (memory O(B·H·Q·T)) and hands them to ``reducer(layer_idx, rows, log_z)``
   before the next layer runs.

Families whose HF code bypasses the interface (see :mod:`attnscope.probe.families`)
are read by dedicated readers (Falcon: SDPA kept, rows recomputed in a hook;
GPT-J: its ``_attn`` replaced by the exact blockwise kernel; BLOOM: eager layers,
rows recomputed in a hook) or, for any other such family, switched to eager
attention and read from the returned weights, with a warning naming the family.

Nothing is patched at import. On exit (also on exception) the previous
attention implementation of every config in the model, the training mode and
the interface registrations are restored.
"""
from __future__ import annotations

import contextlib
import contextvars
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import torch

from attnscope.errors import ProtocolError, UnsupportedModelError
from attnscope.probe import families
from attnscope.probe.chunking import chunked_mlp
from attnscope.probe.kernels import check_finite, exact_attention, rows_and_log_z
from attnscope.probe.registry import AttentionBackend, attention_implementation

__all__ = ["BACKEND_NAME", "Reducer", "ProbeState", "probing", "probe_attention_forward"]

#: Name under which the backend and its mask are registered.
BACKEND_NAME = "attnscope_probe"

#: reducer(layer_idx, rows [B, H, Q, T] float32, log_z [B, H, Q] float32) -> None
Reducer = Callable[[int, torch.Tensor, torch.Tensor], None]

_ACTIVE: contextvars.ContextVar["ProbeState | None"] = contextvars.ContextVar("attnscope_probe", default=None)


@dataclass
class ProbeState:
    """What the backend needs during one ``probing`` block (yielded by it)."""

    query_positions: torch.Tensor
    reducer: Reducer
    family: str
    fallback_eager: bool
    warnings: list[str] = field(default_factory=list)
    layers_seen: list[int] = field(default_factory=list)
    module_index: dict[int, int] = field(default_factory=dict)

    def index_for(self, t_q: int, device: torch.device) -> torch.Tensor:
        """The query positions as an index on ``device``, checked against the query length."""
        pos = self.query_positions
        if int(pos.max()) >= t_q:
            raise ProtocolError(
                f"query position {int(pos.max())} is outside the sequence of length {t_q}",
                field="query_positions", value=int(pos.max()),
            )
        return pos.to(device)


def _validate_positions(query_positions: Sequence[int] | torch.Tensor) -> torch.Tensor:
    pos = torch.as_tensor(query_positions)
    if pos.ndim != 1 or pos.numel() == 0:
        raise ProtocolError("query_positions must be a non-empty 1-D list of token positions",
                            field="query_positions", value=list(pos.reshape(-1).tolist())[:8])
    if pos.is_floating_point() or pos.dtype == torch.bool:
        raise ProtocolError("query_positions must be integers", field="query_positions", value=pos.tolist()[:8])
    if int(pos.min()) < 0:
        raise ProtocolError("query positions must be >= 0", field="query_positions", value=int(pos.min()))
    return pos.to(torch.long)


def probe_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    softcap: float | None = None,
    s_aux: torch.Tensor | None = None,
    sinks: torch.Tensor | None = None,
    position_bias: torch.Tensor | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """``AttentionInterface`` function: SDPA output plus the probe's rows (dropout is always off).

    Shapes as in every transformers backend: ``query`` [B, H, Tq, D], ``key`` and
    ``value`` [B, Hkv, Tk, D]; returns ``(attn_output [B, Tq, H, Dv], None)``.
    """
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    sink_logits = s_aux if s_aux is not None else sinks
    if scaling is None:
        scaling = query.shape[-1] ** -0.5
    causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    kwargs.pop("output_attentions", None)
    kwargs.pop("sliding_window", None)  # already in the mask built by our registered mask function

    if softcap is None and sink_logits is None:
        attn_output, _ = sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=0.0, scaling=scaling,
            is_causal=is_causal, position_bias=position_bias, **kwargs,
        )
    else:
        attn_output = exact_attention(
            query, key, value, attention_mask, scaling=scaling, softcap=softcap, sinks=sink_logits,
            position_bias=position_bias, causal=causal,
        )

    state = _ACTIVE.get()
    # non-causal attention (a multimodal model's vision encoder) is run but not reported
    if state is not None and causal:
        layer_idx = getattr(module, "layer_idx", None)
        if not isinstance(layer_idx, int):
            layer_idx = state.module_index.get(id(module), len(state.layers_seen))
        idx = state.index_for(query.shape[2], query.device)
        rows, log_z = rows_and_log_z(
            query, key, idx, attention_mask, scaling=scaling, softcap=softcap, sinks=sink_logits,
            position_bias=position_bias, causal=causal,
        )
        check_finite(log_z, layer_idx, query.dtype)
        state.layers_seen.append(layer_idx)
        state.reducer(layer_idx, rows, log_z)
    return attn_output, None


def is_registered() -> bool:
    """True while a ``probing`` block holds the backend registered."""
    return _BACKEND.registered


def _eager_hook(state: ProbeState, layer_idx: int):
    def hook(module, args, output):
        if not isinstance(output, tuple) or len(output) < 2 or output[1] is None:
            raise UnsupportedModelError(
                f"family {state.family!r}: the eager attention module returned no attention weights",
                field="model_type", value=state.family,
            )
        weights = output[1]  # [B, H, Tq, Tk] probabilities at the model's precision
        idx = state.index_for(weights.shape[2], weights.device)
        rows = weights.index_select(2, idx).to(torch.float32)
        check_finite(rows.sum(-1), layer_idx, weights.dtype)
        log_z = torch.full(rows.shape[:-1], float("nan"), dtype=torch.float32, device=rows.device)
        state.layers_seen.append(layer_idx)
        state.reducer(layer_idx, rows, log_z)
        return (output[0], None, *output[2:])  # drop the T x T weights at once

    return hook


@contextlib.contextmanager
def probing(
    model: torch.nn.Module,
    query_positions: Sequence[int] | torch.Tensor,
    reducer: Reducer,
    *,
    mlp_chunk: int | None = None,
) -> Iterator[ProbeState]:
    """Run ``model`` with the probe backend; ``reducer`` receives each layer's rows.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A decoder LM (any family; see :mod:`attnscope.probe.families`).
    query_positions : sequence of int
        Token positions whose attention rows are read (0-based, < T; checked at
        forward time against the actual length).
    reducer : callable
        ``reducer(layer_idx, rows, log_z)`` with rows float32 [B, H, Q, T] (zero on
        invisible keys) and log_z float32 [B, H, Q], called once per layer as it runs.
    mlp_chunk : int, optional
        Run every layer MLP over the sequence in chunks of this many tokens (exact;
        bounds the MLP intermediates at long T, see :mod:`attnscope.probe.chunking`).

    Yields
    ------
    ProbeState
        Holds ``warnings`` (e.g. the eager fallback of a family) and ``layers_seen``.
    """
    if families.family_of(model) in families.NO_ATTENTION_MODEL_TYPES:
        raise UnsupportedModelError("this model has no attention layers to probe",
                                    field="model_type", value=families.family_of(model))
    pos = _validate_positions(query_positions)
    reader = families.reader_for(model)
    message = families.fallback_warning(model)
    state = ProbeState(query_positions=pos, reducer=reducer, family=families.family_of(model),
                       fallback_eager=message is not None and reader is None)
    modules = families.attention_modules(model)
    state.module_index = {id(m): i for i, m in modules}
    if (reader is not None or state.fallback_eager) and not modules:
        raise UnsupportedModelError("no attention modules found to read", field="model_type", value=state.family)
    was_training = model.training
    token = None
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(_BACKEND.active())
            if message is not None:
                state.warnings.append(message)
                warnings.warn(message, UserWarning, stacklevel=3)
            target = BACKEND_NAME
            if reader == "falcon":  # keeps SDPA; rows recomputed from q, k (probe/falcon.py)
                from attnscope.probe.falcon import falcon_rows_hook

                target = "sdpa"
                _hook_all(stack, modules, lambda i: falcon_rows_hook(state, i), with_kwargs=True)
            elif reader == "gptj":  # _attn replaced by the exact blockwise kernel (probe/gptj.py)
                from attnscope.probe.gptj import gptj_attention_override

                stack.enter_context(gptj_attention_override(state, modules))
            elif reader == "bloom":  # eager layers; rows and log Z recomputed (probe/bloom.py)
                from attnscope.probe.bloom import bloom_rows_hook

                target = "eager"
                _hook_all(stack, modules, lambda i: bloom_rows_hook(state, i), with_kwargs=True)
            elif state.fallback_eager:
                target = "eager"
                _hook_all(stack, modules, lambda i: _eager_hook(state, i), with_kwargs=False)
            stack.enter_context(attention_implementation(model, target))
            model.eval()
            token = _ACTIVE.set(state)
            stack.enter_context(chunked_mlp(model, mlp_chunk))
            yield state
    finally:
        if token is not None:
            _ACTIVE.reset(token)
        model.train(was_training)


def _hook_all(stack: contextlib.ExitStack, modules, make, *, with_kwargs: bool) -> None:
    """Register ``make(layer_idx)`` as a forward hook on every attention module (removed on exit)."""
    for layer_idx, module in modules:
        handle = module.register_forward_hook(make(layer_idx), with_kwargs=with_kwargs)
        stack.callback(handle.remove)


_BACKEND = AttentionBackend(BACKEND_NAME, probe_attention_forward)
