"""Validation helpers shared by the policies (per-layer values, sinks, fractions)."""
from __future__ import annotations

import math
from typing import Sequence, Union

import numpy as np

from attnscope.errors import ProtocolError
from attnscope.kv.base import validate_budget

PerLayer = Union[int, float, Sequence[int], Sequence[float]]


def per_layer(value, n_layers: int, *, field: str) -> list:
    """A scalar broadcast to every layer, or a list with exactly one value per layer."""
    if isinstance(value, (list, tuple, np.ndarray)):
        vals = list(value)
        if len(vals) != n_layers:
            raise ProtocolError(f"expected one value per layer ({n_layers}), got {len(vals)}", field=field, value=vals)
        return vals
    return [value] * n_layers


def budgets_per_layer(budget, n_layers: int, n_sink: int) -> list[int]:
    """Validated per-layer budgets (keys a decoded token attends to)."""
    return [validate_budget(b, n_sink=n_sink) for b in per_layer(budget, n_layers, field="budget")]


def gammas_per_layer(gammas, n_layers: int) -> list[float]:
    """Finite per-layer decay exponents."""
    out = []
    for g in per_layer(gammas, n_layers, field="gamma"):
        if isinstance(g, bool) or not isinstance(g, (int, float, np.floating, np.integer)) or not math.isfinite(g):
            raise ProtocolError("gamma must be a finite number for every layer", field="gamma", value=g)
        out.append(float(g))
    return out


def check_sinks(n_sink: int) -> int:
    if isinstance(n_sink, bool) or not isinstance(n_sink, (int, np.integer)) or n_sink < 0:
        raise ProtocolError("n_sink must be an integer >= 0", field="n_sink", value=n_sink)
    return int(n_sink)


def sinks_and_recent(n: int, n_sinks_present: int, capacity: int) -> np.ndarray:
    """Indices of the stored sinks followed by the most recent ``capacity - sinks`` entries (n > capacity)."""
    recent = capacity - n_sinks_present
    return np.concatenate([np.arange(n_sinks_present, dtype=np.int64), np.arange(n - recent, n, dtype=np.int64)])


def sink_window_plan(positions: np.ndarray, n_sink: int, capacity: int):
    """Runs kept by a sinks + recent-window rule: [(0, s), (n - (capacity - s), n)] or None if it all fits."""
    n = len(positions)
    if n <= capacity:
        return None
    s = int(np.searchsorted(positions, n_sink, side="left"))
    return [(0, s), (n - (capacity - s), n)] if s else [(n - capacity, n)]
