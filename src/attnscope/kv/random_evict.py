"""Random eviction at a given budget: the floor every informed policy must beat."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

from attnscope.kv._params import budgets_per_layer, check_sinks
from attnscope.kv.base import KVPolicy, sink_count

__all__ = ["RandomEvict"]


@dataclass
class RandomEvict(KVPolicy):
    """Keep the sinks; when over budget, keep a uniformly random subset of the other stored keys.

    Parameters
    ----------
    budget : int or list of int
        Keys a decoded token attends to (itself included), per model or per layer.
    n_sink : int, default 4
        Leading positions always kept (same as the other policies, so that only
        the choice among the rest differs).
    seed : int, default 0
        Layer l draws from ``numpy.random.default_rng([seed, l])``, restarted by
        :meth:`reset` (every new cache or simulation), so runs are reproducible.
    """

    name = "random"
    budget: Union[int, list[int]] = 64
    n_sink: int = 4
    seed: int = 0
    budgets_: list[int] = field(default_factory=list, init=False, repr=False)

    def _bind(self) -> None:
        self.budgets_ = budgets_per_layer(self.budget, self.n_layers_, check_sinks(self.n_sink))

    def reset(self) -> None:
        self._rngs = [np.random.default_rng([int(self.seed), layer]) for layer in range(getattr(self, "n_layers_", 0))]

    def capacity(self, layer_idx: int) -> Optional[int]:
        return self.budgets_[layer_idx] - 1

    def keep_indices(self, layer_idx: int, positions: np.ndarray, n_seen: int) -> Optional[np.ndarray]:
        cap = self.capacity(layer_idx)
        n = len(positions)
        if n <= cap:
            return None
        s = sink_count(positions, self.n_sink)
        chosen = self._rngs[layer_idx].choice(np.arange(s, n), size=cap - s, replace=False)
        return np.concatenate([np.arange(s, dtype=np.int64), np.sort(chosen).astype(np.int64)])

    def _layer_signature(self, layer_idx: int) -> Optional[tuple]:
        return None  # every layer has its own random stream
