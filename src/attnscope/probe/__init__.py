"""Reading attention from a live transformers model (the only code touching its internals).

Public API (imported lazily, so ``import attnscope.probe.heads`` stays cheap):

- :func:`attention_rows` (model, input_ids, query_positions) -> float32 [L, H, Q, T]
- :func:`log_partition` (model, input_ids, query_positions) -> float32 [L, H, Q]
- :func:`rows_and_log_partition` -> both from one forward
- :func:`probe_forward` (model, input_ids, query_positions, reducer) -> model output
- :func:`probing` context manager (``attnscope.probe.backend``)
- :func:`load_model` (``attnscope.probe.loading``)
"""
from __future__ import annotations

from attnscope._lazy import lazy_exports

_LAZY = {
    "attention_rows": ("attnscope.probe.rows", "attention_rows"),
    "log_partition": ("attnscope.probe.rows", "log_partition"),
    "rows_and_log_partition": ("attnscope.probe.rows", "rows_and_log_partition"),
    "probe_forward": ("attnscope.probe.rows", "probe_forward"),
    "probing": ("attnscope.probe.backend", "probing"),
    "BACKEND_NAME": ("attnscope.probe.backend", "BACKEND_NAME"),
    "load_model": ("attnscope.probe.loading", "load_model"),
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
