"""Sinks + recent window (StreamingLLM; Xiao et al. 2023, arXiv:2309.17453).

Keeps the first ``n_sink`` positions and the most recent tokens, ``budget`` keys
in all (the query's own key included). Position handling is explicit: kept keys
keep their ORIGINAL rotary positions and new tokens get their true absolute
positions (no re-rotation into a contiguous range, unlike the paper's code);
inside the training context this is the exact model, beyond it see the README's KV section.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Optional, Union

import numpy as np

from attnscope.kv._params import sink_window_plan, budgets_per_layer, check_sinks, sinks_and_recent
from attnscope.kv.base import KVPolicy, sink_count

__all__ = ["SinkWindow", "SinksAndRecent"]


class SinksAndRecent:
    """Eviction of sinks + a recent window, for policies that set ``budgets_`` (keys per layer,
    the query's own included) and ``n_sink``: SinkWindow (a given budget) and GammaWindow (D_f)."""

    def capacity(self, layer_idx: int) -> Optional[int]:
        return self.budgets_[layer_idx] - 1

    def keep_indices(self, layer_idx: int, positions: np.ndarray, n_seen: int) -> Optional[np.ndarray]:
        cap = self.capacity(layer_idx)
        if len(positions) <= cap:
            return None
        return sinks_and_recent(len(positions), sink_count(positions, self.n_sink), cap)

    def evict_plan(self, layer_idx: int, positions: np.ndarray, n_seen: int):
        return sink_window_plan(positions, self.n_sink, self.capacity(layer_idx))  # same set as keep_indices


@dataclass
class SinkWindow(SinksAndRecent, KVPolicy):
    """Sinks + the last ``budget - n_sink`` tokens per layer.

    Parameters
    ----------
    budget : int or list of int
        Keys a decoded token attends to (sinks + recent window, itself included);
        one value for every layer or one per layer. >= n_sink + 2.
    n_sink : int, default 4
        Leading positions always kept (StreamingLLM's 4 attention sinks).
    """

    name = "sink_window"
    budget: Union[int, list[int]] = 64
    n_sink: int = 4
    ring_window: ClassVar[bool] = True
    budgets_: list[int] = field(default_factory=list, init=False, repr=False)

    def _bind(self) -> None:
        self.budgets_ = budgets_per_layer(self.budget, self.n_layers_, check_sinks(self.n_sink))
