"""The KV-policy base class: one hook, owned by the base, unhooked in ``finally``.

A policy decides, for one layer, which cached tokens to KEEP. Everything else —
the transformers cache, the attention backend that lets layers hold different
numbers of keys, the simulation used by teacher-forced evaluation — lives here
and in :mod:`attnscope.kv.cache`. A subclass (kvpress-style, ~25 lines) writes
only :meth:`KVPolicy.capacity` and :meth:`KVPolicy.keep_indices`.

Semantics (shared by generation and evaluation)
------------------------------------------------
* A token's key is appended to the cache of every layer when it is processed;
  the query attends to everything stored plus itself; THEN the layer evicts down
  to ``capacity(layer)`` stored keys. The **budget** of a layer is therefore
  ``capacity + 1`` = the number of keys a decoded token attends to.
* Positions are never changed: kept keys keep the rotary phase of their original
  position, and new tokens get their true absolute positions (the cache reports
  the number of tokens *seen* as its sequence length). This is the "keep original
  positions" choice; StreamingLLM instead re-rotates keys into a contiguous range,
  which only matters beyond the training context (see the README's KV section).
* Sinks are the first ``n_sink`` absolute positions (position 0 is the BOS token
  of the bundled models).
* Every policy here is content-independent: what is kept depends on positions
  (and a seed) only. A multi-token forward (a prefill) attends fully within
  itself and evicts afterwards, as in kvpress.
"""
from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Iterator, Optional

import numpy as np

from attnscope.errors import ProtocolError

__all__ = ["KVPolicy", "validate_budget", "sink_count"]


def validate_budget(budget: int, *, n_sink: int, field: str = "budget") -> int:
    """A budget (keys a decoded token attends to) must be an int > n_sink + 1 (sinks, one recent key, itself)."""
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
        raise ProtocolError("a KV budget must be an integer number of tokens", field=field, value=budget)
    if budget < n_sink + 2:
        raise ProtocolError(f"a KV budget must be at least n_sink + 2 = {n_sink + 2} (the sinks, one past "
                            "token and the query's own key)", field=field, value=int(budget))
    return int(budget)


def sink_count(positions: np.ndarray, n_sink: int) -> int:
    """How many of the (sorted) stored positions are sinks (absolute position < n_sink)."""
    return int(np.searchsorted(positions, n_sink, side="left"))


@dataclass
class KVPolicy(ABC):
    """Base class of the KV-cache policies (see the module docstring for the semantics).

    Subclasses are dataclasses whose fields are the user's parameters; state
    resolved at :meth:`bind` time ends in ``_`` and never overwrites a field.
    """

    name: ClassVar[str] = "base"
    #: True when the policy may evict below its capacity (e.g. soft decay thins old tokens every step).
    always_evicts: ClassVar[bool] = False
    #: True when, once full, each decoded token evicts exactly the oldest non-sink key (sinks + window):
    #: the cache then uses an in-place ring buffer (attnscope.kv.cache.PolicyLayer). Requires ``n_sink``.
    ring_window: ClassVar[bool] = False
    #: True when the policy implements :meth:`step_evict` (its eviction for one decoded token, computed
    #: incrementally): the cache then decodes through in-place slots (attnscope.kv.cache.PolicyLayer).
    slot_evict: ClassVar[bool] = False

    # ---- what a subclass writes ------------------------------------------------------------
    @abstractmethod
    def capacity(self, layer_idx: int) -> Optional[int]:
        """Keys stored after eviction in ``layer_idx`` (budget − 1); None = unbounded."""

    @abstractmethod
    def keep_indices(self, layer_idx: int, positions: np.ndarray, n_seen: int) -> Optional[np.ndarray]:
        """Indices into ``positions`` (sorted absolute positions, the newest last) to keep.

        Called after each forward of a layer, once the new keys are appended.
        Return None to keep everything; otherwise a sorted int64 array of at most
        ``capacity(layer_idx)`` indices.
        """

    def step_evict(self, layer_idx: int, order: list[int], n_sinks: int, n_seen: int) -> list[int]:
        """Incremental :meth:`keep_indices` for one decoded token (only when ``slot_evict`` is True).

        ``order`` holds the stored non-sink positions, sorted, the new token ``n_seen − 1`` last; the
        ``n_sinks`` stored sinks are never evicted. The stored set is what this policy kept at the previous
        step. Remove the evicted positions from ``order`` (in place) and return them: exactly the
        positions :meth:`keep_indices` would drop from ``sinks + order`` (random draws included), in
        O(evicted) Python work instead of a pass over every stored position (tests/kv check the identity).
        """
        raise NotImplementedError(f"{type(self).__name__} has no incremental eviction")

    # ---- shared machinery --------------------------------------------------------------------
    def bind(self, n_layers: int, context: int) -> "KVPolicy":
        """Resolve per-layer state for a model with ``n_layers`` layers and a context of ``context`` tokens."""
        if not isinstance(n_layers, int) or n_layers < 1:
            raise ProtocolError("n_layers must be a positive integer", field="n_layers", value=n_layers)
        if not isinstance(context, (int, np.integer)) or context < 2:
            raise ProtocolError("context must be an integer >= 2", field="context", value=context)
        self.n_layers_ = n_layers
        self.context_ = int(context)
        self._bind()
        self.reset()
        return self

    def _bind(self) -> None:
        """Hook for subclasses: compute per-layer state from ``n_layers_`` and ``context_``."""

    def reset(self) -> None:
        """Restart any random state (called when a new cache or simulation starts)."""

    def budgets(self) -> list[Optional[int]]:
        """Per-layer budget (keys a decoded token attends to); None = the full context."""
        self._check_bound()
        return [None if self.capacity(l) is None else int(self.capacity(l)) + 1 for l in range(self.n_layers_)]

    def describe(self) -> dict:
        """JSON-able description: name, parameters, resolved per-layer budgets."""
        from dataclasses import asdict

        params = {k: (v if not isinstance(v, np.ndarray) else v.tolist()) for k, v in asdict(self).items()
                  if not k.endswith("_")}
        out = {"policy": self.name, "params": params}
        if hasattr(self, "n_layers_"):
            out["budgets_per_layer"] = self.budgets()
            out["context"] = self.context_
        return out

    def _check_bound(self) -> None:
        if not hasattr(self, "n_layers_"):
            raise ProtocolError("the policy is not bound to a model yet: call bind(n_layers, context) "
                                "or use it as `with policy(model, context=...)`", field="policy", value=self.name)

    def evict(self, layer_idx: int, positions: np.ndarray, n_seen: int) -> Optional[np.ndarray]:
        """Indices to keep, or None when nothing is evicted (what the cache calls)."""
        keep = self.keep_indices(layer_idx, positions, n_seen)
        if keep is None or len(keep) == len(positions):
            return None
        return np.asarray(keep, dtype=np.int64)

    def evict_plan(self, layer_idx: int, positions: np.ndarray, n_seen: int):
        """What the cache applies: None (keep all), a list of contiguous (start, stop) runs, or an index array.

        Runs are copied as slices (cheaper than an index gather); policies whose kept
        set is a few runs (sinks + window) override this to skip building indices.
        """
        keep = self.evict(layer_idx, positions, n_seen)
        if keep is None:
            return None
        breaks = np.flatnonzero(np.diff(keep) != 1)
        if len(breaks) > 3:
            return keep
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks + 1, [len(keep)]])
        return [(int(keep[a]), int(keep[b - 1]) + 1) for a, b in zip(starts, ends)]

    def simulate(self, T: int) -> Optional[list[np.ndarray]]:
        """Visible keys of every query when T tokens are decoded one at a time from position 0.

        Returns None when nothing would ever be evicted (the plain causal forward
        applies), else one bool array of shape (T, T) per layer: ``vis[l][i, j]`` is
        True iff query i attends to key j in layer l. This is exactly what the cache
        does token by token (tests/kv check it against decoding).
        """
        self._check_bound()
        if all(self.capacity(l) is None or self.capacity(l) >= T - 1 for l in range(self.n_layers_)) \
                and not self.always_evicts:
            return None
        self.reset()
        out = []
        memo: dict[tuple, np.ndarray] = {}
        for layer in range(self.n_layers_):
            sig = self._layer_signature(layer)
            if sig is not None and sig in memo:
                out.append(memo[sig])
                continue
            vis = np.zeros((T, T), dtype=bool)
            stored = np.empty(0, dtype=np.int64)
            for i in range(T):
                pos = np.append(stored, i)
                vis[i, pos] = True
                cap = self.capacity(layer)
                keep = self.evict(layer, pos, i + 1) if self.always_evicts or (cap is not None and len(pos) > cap) \
                    else None
                stored = pos if keep is None else pos[keep]
            out.append(vis)
            if sig is not None:
                memo[sig] = vis
        self.reset()
        return out

    def _layer_signature(self, layer_idx: int) -> Optional[tuple]:
        """Layers with equal signatures evict identically (lets :meth:`simulate` reuse work); None = unique."""
        return (self.capacity(layer_idx),)

    @contextlib.contextmanager
    def __call__(self, model, *, context: int) -> Iterator["object"]:
        """``with policy(model, context=N) as cache:`` — a fresh evicting cache for ``model``.

        Installs the KV attention backend (restored in ``finally``) and yields a
        :class:`attnscope.kv.cache.PolicyCache` to pass as ``past_key_values`` to
        ``model.generate`` or to a teacher-forced forward.
        """
        from attnscope.kv.cache import PolicyCache, kv_backend, n_attention_layers

        self.bind(n_attention_layers(model), context)
        with kv_backend(model):
            yield PolicyCache(self, self.n_layers_)
