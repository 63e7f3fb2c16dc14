"""Random eviction at a given budget: the floor every informed policy must beat."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Optional, Union

import numpy as np

from attnscope.kv._params import budgets_per_layer, check_sinks
from attnscope.kv.base import KVPolicy, sink_count

__all__ = ["RandomEvict"]


@dataclass
class RandomEvict(KVPolicy):
    """Keep the sinks; when over budget, keep a uniformly random subset of the other stored keys.

    When one key over (every decoding step once full) the subset is drawn as ONE uniform eviction among
    the non-sink keys (the new one included) — the same distribution as a uniform subset of all but one,
    with one O(1) draw (``Generator.integers``) instead of a shuffle of the whole cache; when several keys
    over (after a prefill), ``Generator.choice`` without replacement picks the kept subset.

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
    slot_evict: ClassVar[bool] = True
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
        if n == cap + 1:  # one over: evict one uniformly random non-sink key (same draw as step_evict)
            return np.delete(np.arange(n, dtype=np.int64), int(self._rngs[layer_idx].integers(s, n)))
        chosen = self._rngs[layer_idx].choice(np.arange(s, n), size=cap - s, replace=False)
        return np.concatenate([np.arange(s, dtype=np.int64), np.sort(chosen).astype(np.int64)])

    def step_evict(self, layer_idx: int, order: list[int], n_sinks: int, n_seen: int) -> list[int]:
        """The same seeded draws as :meth:`keep_indices` (same generator calls), resolved to the evicted keys."""
        cap = self.capacity(layer_idx)
        m = len(order)
        if n_sinks + m <= cap:
            return []
        if m == cap - n_sinks + 1:  # the decoding steady state: one key out, O(1)
            return [order.pop(int(self._rngs[layer_idx].integers(m)))]  # = integers(s, n) - s
        chosen = self._rngs[layer_idx].choice(m, size=cap - n_sinks, replace=False)  # = choice(arange(s, n))
        keep = set(chosen.tolist())
        out = [p for i, p in enumerate(order) if i not in keep]
        order[:] = [p for i, p in enumerate(order) if i in keep]
        return out

    def _layer_signature(self, layer_idx: int) -> Optional[tuple]:
        return None  # every layer has its own random stream
