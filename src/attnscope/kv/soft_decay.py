"""Soft-decay eviction: the soft alternative of recipe X-19 to a hard window at D_f.

TAF §26.8 contrasts a hard cutoff with a *soft* distance decay (which it
applies when d_horizon ≳ T_train/2). As a KV-cache policy — a policy decides
only which keys stay — soft decay means: keep a dense recent window of w
tokens, and beyond it keep a thinning sample of older tokens whose density
falls like the attention profile, ρ(d) ≈ (w/d)^γ, instead of none at all.

Realisation (exact and eviction-compatible): a non-sink token at distance d
from the newest token is kept iff its absolute position is a multiple of
stride(d) = 2^⌊γ·log2(d/w)⌋ (1 for d ≤ w, and for γ ≤ 0). Strides are powers of
two that never decrease with d, so a token dropped once is never needed again.
w is the smallest window whose kept count at the end of the context reaches the
budget; beyond the budget the oldest non-sink keys are dropped (a hard cap, so
the budget is used in full and never exceeded).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import ClassVar, Optional, Union

import numpy as np

from attnscope.kv._params import budgets_per_layer, check_sinks, gammas_per_layer
from attnscope.kv.base import KVPolicy, sink_count

__all__ = ["SoftDecay", "strides"]


def strides(d: np.ndarray, w: int, gamma: float) -> np.ndarray:
    """stride(d) = 2^⌊γ·log2(d/w)⌋ for d > w, else 1 (int64; γ ≤ 0 → all ones)."""
    d = np.asarray(d, dtype=np.float64)
    out = np.ones(d.shape, dtype=np.int64)
    if gamma <= 0:
        return out
    far = d > w
    k = np.floor(gamma * np.log2(d[far] / w) + 1e-12).astype(np.int64)
    out[far] = np.left_shift(1, np.minimum(k, 62))
    return out


def _window_for(capacity: int, gamma: float, N: int, first: int) -> int:
    """Smallest dense window w >= 1 that keeps at least ``capacity`` tokens after N non-sink tokens.

    The count is exact for the last step (absolute positions first..first+N-1,
    the newest at distance 0). Using the smallest such w and the hard cap of
    :meth:`SoftDecay.keep_indices` (drop the oldest beyond the capacity) makes
    the policy use its whole budget, so comparisons at equal budget are fair.
    """
    p = first + np.arange(N)
    d = (first + N - 1) - p

    def kept(w: int) -> int:
        return int((p % strides(d, w, gamma) == 0).sum())

    lo, hi = 1, max(1, capacity)
    while hi > lo:
        mid = (lo + hi) // 2
        if kept(mid) >= capacity:
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass
class SoftDecay(KVPolicy):
    """Sinks + a dense recent window + power-law thinned older tokens, ``budget`` keys at most.

    Parameters
    ----------
    budget : int or list of int
        Keys a decoded token attends to (itself included), per model or per layer.
    gammas : float or list of float
        Decay exponent(s) of the kept density (γ_Padé or measured, like the γ-window).
    n_sink : int, default 4
        Leading positions always kept.
    gamma_source : str
        Where the γ came from (recorded in the results).
    """

    name = "soft_decay"
    always_evicts: ClassVar[bool] = True
    slot_evict: ClassVar[bool] = True
    budget: Union[int, list[int]] = 64
    gammas: Union[float, list[float]] = 1.0
    n_sink: int = 4
    gamma_source: str = "given"
    budgets_: list[int] = field(default_factory=list, init=False, repr=False)
    windows_: list[int] = field(default_factory=list, init=False, repr=False)
    gammas_: list[float] = field(default_factory=list, init=False, repr=False)

    def _bind(self) -> None:
        n_sink = check_sinks(self.n_sink)
        self.budgets_ = budgets_per_layer(self.budget, self.n_layers_, n_sink)
        self.gammas_ = gammas_per_layer(self.gammas, self.n_layers_)
        N = max(1, self.context_ - n_sink)
        self.windows_ = [_window_for(b - 1 - n_sink, g, N, n_sink) for b, g in zip(self.budgets_, self.gammas_)]
        # stride lookup per layer for distances 0..context (the hot path of decoding); longer contexts compute
        self._tables = [strides(np.arange(self.context_ + 1), w, g) for w, g in zip(self.windows_, self.gammas_)]
        # distances where the stride doubles (ascending) with the new stride: only the token at such a distance
        # can become misaligned at a step (strides are nondecreasing powers of two), see step_evict
        self._jumps = [[(int(b), int(t[b])) for b in np.flatnonzero(np.diff(t)) + 1] for t in self._tables]

    def capacity(self, layer_idx: int) -> Optional[int]:
        return self.budgets_[layer_idx] - 1

    def keep_indices(self, layer_idx: int, positions: np.ndarray, n_seen: int) -> Optional[np.ndarray]:
        cap = self.capacity(layer_idx)
        s = sink_count(positions, self.n_sink)
        rest = positions[s:]
        d = (n_seen - 1) - rest
        table = self._tables[layer_idx]
        st = table[d] if len(d) == 0 or d[0] < len(table) else strides(d, self.windows_[layer_idx],
                                                                      self.gammas_[layer_idx])
        ok = np.flatnonzero(rest % st == 0) + s
        if len(ok) > cap - s:
            ok = ok[len(ok) - (cap - s):]  # hard cap: drop the oldest
        return np.concatenate([np.arange(s, dtype=np.int64), ok.astype(np.int64)])

    def step_evict(self, layer_idx: int, order: list[int], n_sinks: int, n_seen: int) -> list[int]:
        """:meth:`keep_indices` for one decoded token, testing only the keys whose stride just doubled.

        Every stored key was stride-aligned one step earlier, so a key can become misaligned only at a
        distance where the stride changes; then the hard cap drops the oldest (at most one per step).
        """
        newest = n_seen - 1
        if not order:
            return []
        if newest - order[0] >= len(self._tables[layer_idx]):  # beyond the bound context: the generic rule
            return self._generic_step(layer_idx, order, n_sinks, n_seen)
        out = []
        for dist, stride in self._jumps[layer_idx]:
            p = newest - dist
            if p < order[0]:
                break
            if p % stride:
                i = bisect_left(order, p)
                if order[i] == p:
                    del order[i]
                    out.append(p)
        excess = len(order) - (self.capacity(layer_idx) - n_sinks)
        if excess > 0:  # hard cap: drop the oldest
            out.extend(order[:excess])
            del order[:excess]
        return out

    def _generic_step(self, layer_idx: int, order: list[int], n_sinks: int, n_seen: int) -> list[int]:
        positions = np.asarray(list(range(n_sinks)) + order, dtype=np.int64)
        keep = self.keep_indices(layer_idx, positions, n_seen)
        kept = set(positions[keep].tolist())
        out = [p for p in order if p not in kept]
        order[:] = [p for p in order if p in kept]
        return out

    def _layer_signature(self, layer_idx: int) -> Optional[tuple]:
        return (self.budgets_[layer_idx], self.windows_[layer_idx], self.gammas_[layer_idx])

    def describe(self) -> dict:
        out = super().describe()
        if self.windows_:
            out["dense_window_per_layer"] = list(self.windows_)
        return out
