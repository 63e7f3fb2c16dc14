"""In-place slot storage of one layer, for policies with an incremental eviction (``KVPolicy.step_evict``).

The keys and values live in a fixed buffer of ``capacity + 1`` slots along the sequence axis. Between two
decoded tokens, slots ``[0, used)`` hold the kept keys plus the ``free`` slots evicted at the previous step
(not overwritten yet, so the previous step's attention could still read them). A new key is written in
place into a free slot (or slot ``used`` when nothing was evicted); when a step evicted k > 1 keys, k − 1
keys from the end of the used range are moved into the other holes (k − 1 one-slot copies), so the used
range stays dense and the attention reads ``buffer[..., :used, :]``: every stored key plus the new one, in
slot order (attention does not depend on key order; summation order does, at float rounding). The cost per
token is one write plus O(evicted) moves: no copy of the cache, no index gather, no NumPy.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["SlotStore"]


class SlotStore:
    """A layer's kept keys/values in ``capacity + 1`` in-place slots, with their absolute positions.

    Parameters
    ----------
    keys, values : torch.Tensor of shape [B, H_kv, K, d]
        The stored keys/values in position order, K <= capacity.
    positions : ndarray of int64, shape (K,)
        Their absolute positions (sorted).
    n_sink : int
        Positions below ``n_sink`` are sinks (never evicted, kept apart from ``order``).
    capacity : int
        Keys kept after each eviction (the policy's budget − 1).
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, positions: np.ndarray, n_sink: int,
                 capacity: int):
        b, h, k, _ = keys.shape
        self.k = keys.new_empty((b, h, capacity + 1, keys.shape[-1]))
        self.v = values.new_empty((b, h, capacity + 1, values.shape[-1]))
        self.k[..., :k, :].copy_(keys)
        self.v[..., :k, :].copy_(values)
        pos = [int(p) for p in positions]
        self.n_sink = int(n_sink)
        self.slot_pos = pos + [-1] * (capacity + 1 - k)  # -1 = free
        self.slot_of = {p: i for i, p in enumerate(pos)}
        self.sinks = [p for p in pos if p < self.n_sink]
        self.order = [p for p in pos if p >= self.n_sink]  # stored non-sink positions, sorted (step_evict's view)
        self.used = k
        self.free: list[int] = []

    def write(self, key_states: torch.Tensor, value_states: torch.Tensor, position: int):
        """Store one new token's key/value [B, H_kv, 1, d] in place; return what its query attends to."""
        used, free = self.used, self.free
        if not free:
            slot = used
            used += 1
        elif len(free) == 1:
            slot = free[0]
        else:  # several evicted: fill all holes but one from the end of the used range, keep it dense
            used -= len(free) - 1
            holes = sorted(h for h in free if h < used)
            tail = [i for i in range(used, self.used) if self.slot_pos[i] >= 0]
            for h, src in zip(holes, tail):  # len(holes) == len(tail) + 1
                self.k[..., h:h + 1, :].copy_(self.k[..., src:src + 1, :])
                self.v[..., h:h + 1, :].copy_(self.v[..., src:src + 1, :])
                p = self.slot_pos[src]
                self.slot_pos[h], self.slot_of[p], self.slot_pos[src] = p, h, -1
            slot = holes[-1]
        self.free = []
        self.used = used
        self.k[..., slot:slot + 1, :].copy_(key_states)
        self.v[..., slot:slot + 1, :].copy_(value_states)
        self.slot_pos[slot] = position
        self.slot_of[position] = slot
        (self.sinks if position < self.n_sink else self.order).append(position)
        if used == self.k.shape[-2]:
            return self.k, self.v
        return self.k[..., :used, :], self.v[..., :used, :]

    def evict(self, positions: list[int]) -> None:
        """Free the slots of ``positions`` (already removed from ``order`` by the policy's step_evict)."""
        for p in positions:
            slot = self.slot_of.pop(p)
            self.slot_pos[slot] = -1
            self.free.append(slot)

    def stored(self) -> int:
        """Number of keys kept (free slots not counted)."""
        return self.used - len(self.free)

    def kept_positions(self) -> np.ndarray:
        """Absolute positions of the kept keys, sorted."""
        return np.asarray(self.sinks + self.order, dtype=np.int64)

    def kept_kv(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The kept keys and values in position order (a gather: for leaving slot mode and inspection)."""
        idx = torch.as_tensor([self.slot_of[p] for p in self.sinks + self.order], dtype=torch.long,
                              device=self.k.device)
        return self.k.index_select(-2, idx), self.v.index_select(-2, idx)
