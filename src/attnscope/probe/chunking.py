"""Run each layer's MLP over the sequence in chunks (exact: the MLP is position-wise).

At long context the MLP intermediates dominate a layer's activations: HF's
``down(act(gate(x)) * up(x))`` holds about three [T, d_ff] tensors at once
(Llama-3-70B at T = 131072 in bf16: 3 × 7 GiB). Chunking the sequence bounds
them by ``chunk`` rows; the output is written into one preallocated [.., T, d]
tensor. Used by :func:`attnscope.probe.backend.probing` (``mlp_chunk=``); the
arithmetic is in ``docs/probe_memory.md``.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from attnscope.errors import ProtocolError, UnsupportedModelError

__all__ = ["chunked_mlp", "mlp_modules"]


def mlp_modules(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The per-layer MLP modules (attribute ``mlp`` of each decoder layer)."""
    return [m for name, m in model.named_modules() if name.endswith(".mlp") or name == "mlp"]


def _chunked(module: torch.nn.Module, chunk: int):
    forward = module.forward

    def run(hidden_states: torch.Tensor, *args, **kwargs):
        t = hidden_states.shape[-2]
        if t <= chunk:
            return forward(hidden_states, *args, **kwargs)
        out = None
        for start in range(0, t, chunk):
            part = forward(hidden_states[..., start:start + chunk, :], *args, **kwargs)
            if not isinstance(part, torch.Tensor):
                raise UnsupportedModelError("mlp_chunk needs MLPs that return one tensor",
                                            field="mlp", value=type(module).__name__)
            if out is None:
                out = part.new_empty(*part.shape[:-2], t, part.shape[-1])
            out[..., start:start + part.shape[-2], :] = part
        return out

    return run


@contextlib.contextmanager
def chunked_mlp(model: torch.nn.Module, chunk: int | None) -> Iterator[int]:
    """Within the block every layer MLP runs in sequence chunks of ``chunk`` tokens.

    ``chunk=None`` does nothing. Yields the number of MLP modules chunked; the
    instance-level ``forward`` override is removed in ``finally``.
    """
    if chunk is None:
        yield 0
        return
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ProtocolError("mlp_chunk must be a positive number of tokens", field="mlp_chunk", value=chunk)
    modules = mlp_modules(model)
    if not modules:
        raise UnsupportedModelError("no per-layer `mlp` module found to chunk", field="mlp_chunk", value=chunk)
    patched: list[tuple[torch.nn.Module, object]] = []
    try:
        for m in modules:
            # an instance-level forward may already exist (accelerate's device_map hooks): keep it
            patched.append((m, m.__dict__.get("forward")))
            m.forward = _chunked(m, chunk)
        yield len(patched)
    finally:
        for m, previous in patched:
            if previous is None:
                del m.forward  # back to the class method
            else:
                m.forward = previous
