"""transformers Cache integration: an evicting DynamicCache and the KV attention backend.

How transformers 5.23 uses a cache (``cache_utils.py``, ``masking_utils.py``):

* every attention layer calls ``past_key_values.update(k, v, layer_idx)`` and
  attends to what it returns (keys are already rotated);
* the model derives the new tokens' positions from ``get_seq_length()`` (so we
  report the number of tokens SEEN, keeping true absolute positions), and builds
  ONE mask per forward from ``get_mask_sizes(q_len, layer_idx)`` of the first
  full-attention layer.

:class:`PolicyCache` stores, per layer, only the keys its policy keeps and their
absolute positions. Its mask sizes describe "every stored key is visible, the new
tokens are causal among themselves" for the largest layer; the attention backend
registered by :func:`kv_backend` right-aligns that mask to each layer's key count
(layers may hold different numbers of keys, e.g. the γ-window), and during
teacher-forced evaluation replaces it by the per-layer masks of
:meth:`attnscope.kv.base.KVPolicy.simulate`.

Scope: decoder families whose attention goes through transformers'
``AttentionInterface`` with a non-sliding cache (Llama, Mistral without a window,
Qwen2/3, OLMo, Gemma without sliding layers, ...), unpadded batches.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import torch
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from attnscope.errors import ProtocolError, UnsupportedModelError
from attnscope.kv._slots import SlotStore
from attnscope.probe.registry import AttentionBackend, attention_implementation

__all__ = ["PolicyLayer", "PolicyCache", "kv_backend", "KV_BACKEND", "n_attention_layers"]

KV_BACKEND = "attnscope_kv"
_ACTIVE: contextvars.ContextVar[Optional["_KVState"]] = contextvars.ContextVar("attnscope_kv", default=None)


class PolicyLayer(DynamicLayer):
    """One layer's evicting cache: keys/values [B, H_kv, K, d] plus their absolute positions [K].

    Window policies (``policy.ring_window``) switch, once full and decoding one token at a time, to a ring
    buffer: the buffer holds the kept keys plus one free slot (the key evicted at the previous step); the
    new key is written into that slot in place and the free slot moves to the next-oldest non-sink key.
    The visible set is identical to the generic path (attention does not depend on key order; summation
    order does, at float rounding). Policies with an incremental eviction (``policy.slot_evict``: soft
    decay, random) decode one token at a time through :class:`attnscope.kv._slots.SlotStore` instead: the
    new key is written in place into a slot freed at the previous step and the policy names the evicted
    keys in O(evicted) work. Any multi-token forward first puts the keys back in position order.
    """

    def __init__(self, policy, layer_idx: int):
        super().__init__()
        self.policy = policy
        self.layer_idx = layer_idx
        self.n_seen = 0
        self.positions = np.empty(0, dtype=np.int64)
        self._ring: Optional[dict] = None  # {"stale": slot, "s": sinks, "span": ring length}
        self._slot_pos = np.empty(0, dtype=np.int64)
        self._slots: Optional[SlotStore] = None

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        q = key_states.shape[-2]
        if self._ring is not None:
            if q == 1:  # steady-state window eviction: one in-place write, no copy of the cache
                r = self._ring
                st = r["stale"]
                self.keys[..., st:st + 1, :].copy_(key_states)
                self.values[..., st:st + 1, :].copy_(value_states)
                self._slot_pos[st] = self.n_seen
                self.n_seen += 1
                r["stale"] = r["s"] + (st - r["s"] + 1) % r["span"]
                return self.keys, self.values
            self._leave_ring()
        if self._slots is not None:
            if q == 1:
                return self._slot_step(key_states, value_states)
            self._leave_slots()
        cap = self.policy.capacity(self.layer_idx)
        if q == 1 and self.policy.slot_evict and cap is not None and 0 < len(self.positions) <= cap:
            self._slots = SlotStore(self.keys, self.values, self.positions, self.policy.n_sink, cap)
            self.keys, self.values = self._slots.k, self._slots.v
            return self._slot_step(key_states, value_states)
        keys = torch.cat([self.keys, key_states], dim=-2)  # [B, H_kv, K + q, d]
        values = torch.cat([self.values, value_states], dim=-2)
        positions = np.concatenate([self.positions, np.arange(self.n_seen, self.n_seen + q, dtype=np.int64)])
        self.n_seen += q
        if q == 1 and self.policy.ring_window and cap is not None and len(positions) == cap + 1:
            s = int(np.searchsorted(positions, self.policy.n_sink, side="left"))
            self.keys, self.values, self._slot_pos = keys, values, positions  # slot s (oldest non-sink) is free
            self._ring = {"stale": s, "s": s, "span": cap + 1 - s}
            return keys, values
        plan = None
        if self.policy.always_evicts or (cap is not None and len(positions) > cap):
            plan = self.policy.evict_plan(self.layer_idx, positions, self.n_seen)
        if plan is None:
            self.keys, self.values, self.positions = keys, values, positions
        elif isinstance(plan, list):  # contiguous runs: slices, one cat
            self.keys = _runs(keys, plan)
            self.values = _runs(values, plan)
            self.positions = positions[plan[0][0]:plan[0][1]] if len(plan) == 1 else \
                np.concatenate([positions[a:b] for a, b in plan])
        else:
            idx = torch.from_numpy(plan).to(keys.device)
            self.keys, self.values = keys.index_select(-2, idx), values.index_select(-2, idx)
            self.positions = positions[plan]
        return keys, values  # this forward attends to everything stored before plus the new tokens

    def _slot_step(self, key_states: torch.Tensor, value_states: torch.Tensor):
        """One decoded token in slot mode: write in place, attend, let the policy name the evicted keys."""
        z = self._slots
        keys, values = z.write(key_states, value_states, self.n_seen)
        self.n_seen += 1
        z.evict(self.policy.step_evict(self.layer_idx, z.order, len(z.sinks), self.n_seen))
        return keys, values

    def _leave_slots(self) -> None:
        self.keys, self.values = self._slots.kept_kv()
        self.positions = self._slots.kept_positions()
        self._slots = None

    def _kept_order(self) -> np.ndarray:
        """Ring mode: the occupied slots in position order."""
        slots = np.delete(np.arange(len(self._slot_pos)), self._ring["stale"])
        return slots[np.argsort(self._slot_pos[slots], kind="stable")]

    def _leave_ring(self) -> None:
        order = self._kept_order()
        idx = torch.from_numpy(order).to(self.keys.device)
        self.keys, self.values = self.keys.index_select(-2, idx), self.values.index_select(-2, idx)
        self.positions = self._slot_pos[order]
        self._ring = None

    def kept_positions(self) -> np.ndarray:
        """Absolute positions of the kept keys, sorted."""
        if self._slots is not None:
            return self._slots.kept_positions()
        return self._slot_pos[self._kept_order()] if self._ring is not None else self.positions.copy()

    def kept_kv(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The kept keys and values in position order (a copy in ring and slot mode)."""
        if self._slots is not None:
            return self._slots.kept_kv()
        if self._ring is None:
            return self.keys, self.values
        idx = torch.from_numpy(self._kept_order()).to(self.keys.device)
        return self.keys.index_select(-2, idx), self.values.index_select(-2, idx)

    def stored_length(self) -> int:
        """Number of keys kept (after eviction; a ring buffer's or slot store's free slots are not counted)."""
        if self._slots is not None:
            return self._slots.stored()
        if self._ring is not None:
            return len(self._slot_pos) - 1
        return 0 if not self.is_initialized or self.keys.numel() == 0 else int(self.keys.shape[-2])

    def get_seq_length(self) -> int:
        """Tokens seen so far (the next token's absolute position), not the number stored."""
        return self.n_seen

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        stored = self.stored_length()
        return stored + query_length, self.n_seen - stored

    def reset(self) -> None:
        super().reset()
        self.n_seen = 0
        self.positions = np.empty(0, dtype=np.int64)
        self._ring = None
        self._slot_pos = np.empty(0, dtype=np.int64)
        self._slots = None

    def crop(self, tokens_to_remove: int) -> None:
        raise ProtocolError("an evicting KV cache cannot be cropped (assisted/speculative decoding is not "
                            "supported with KV policies)", field="crop", value=tokens_to_remove)

    def nbytes(self) -> int:
        """Bytes held by the stored keys and values (a ring buffer's or slot store's free slots included)."""
        if not self.is_initialized:
            return 0
        return int(self.keys.numel() * self.keys.element_size() + self.values.numel() * self.values.element_size())


def _runs(x: torch.Tensor, runs: list[tuple[int, int]]) -> torch.Tensor:
    """x[..., a:b, :] for each (a, b) run, concatenated along the sequence axis."""
    if len(runs) == 1:
        return x[..., runs[0][0]:runs[0][1], :].contiguous()
    return torch.cat([x[..., a:b, :] for a, b in runs], dim=-2)


class PolicyCache(DynamicCache):
    """A DynamicCache whose layers evict according to a bound :class:`attnscope.kv.base.KVPolicy`."""

    def __init__(self, policy, n_layers: int):
        Cache.__init__(self, layers=[PolicyLayer(policy, i) for i in range(n_layers)])
        self.policy = policy
        policy.reset()

    def get_mask_sizes(self, query_length: int, layer_idx: int) -> tuple[int, int]:
        """Sizes for the LARGEST layer; the backend right-aligns the mask for smaller ones."""
        stored = max(layer.stored_length() for layer in self.layers)
        return stored + query_length, self.layers[layer_idx].n_seen - stored

    def positions(self, layer_idx: int) -> np.ndarray:
        """Absolute positions of the keys stored in ``layer_idx``."""
        return self.layers[layer_idx].kept_positions()

    def nbytes(self) -> int:
        """Bytes held by every layer's stored keys and values."""
        return sum(layer.nbytes() for layer in self.layers)


@dataclass
class _KVState:
    base: str
    masks: Optional[list[torch.Tensor]]


def kv_attention_forward(module, query, key, value, attention_mask, **kwargs):
    """Attention through the model's own backend, with per-layer masks (see module docstring)."""
    state = _ACTIVE.get()
    if state is None:  # pragma: no cover - the backend is only selected inside kv_backend
        raise ProtocolError("the KV attention backend ran outside kv_backend()", field="backend", value=KV_BACKEND)
    if state.masks is not None:
        attention_mask = state.masks[module.layer_idx]  # [1, 1, T, T] bool, True = attend
        if attention_mask.shape[-1] != key.shape[-2] or attention_mask.shape[-2] != query.shape[-2]:
            raise ProtocolError("simulated KV masks were built for another length",
                                field="T", value=int(key.shape[-2]))
    elif attention_mask is not None and attention_mask.shape[-1] > key.shape[-2]:
        attention_mask = attention_mask[..., -key.shape[-2]:]  # stored keys first, new tokens last
    return ALL_ATTENTION_FUNCTIONS[state.base](module, query, key, value, attention_mask, **kwargs)


def n_attention_layers(model) -> int:
    """Number of decoder layers of a supported model (raises UnsupportedModelError otherwise)."""
    cfg = model.config.get_text_config(decoder=True)
    types = list(getattr(cfg, "layer_types", None) or [])
    sliding = any(t != "full_attention" for t in types) or (not types and getattr(cfg, "sliding_window", None))
    if sliding:
        raise UnsupportedModelError("KV policies support full-attention layers only (this model has "
                                    "sliding-window or non-attention layers)", field="layer_types",
                                    value=sorted(set(types)) or "sliding_window")
    n = getattr(cfg, "num_hidden_layers", None)
    if not isinstance(n, int) or n < 1:
        raise UnsupportedModelError("the config has no num_hidden_layers", field="num_hidden_layers", value=n)
    return n


@contextlib.contextmanager
def kv_backend(model, masks: Optional[list[np.ndarray]] = None) -> Iterator[None]:
    """Route ``model``'s attention through :func:`kv_attention_forward`; restore it in ``finally``.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Its current attention implementation must be a registered backend ("sdpa" by default).
    masks : list of ndarray of shape (T, T) bool, optional
        Per-layer visibility (from :meth:`KVPolicy.simulate`) for ONE teacher-forced
        forward of length T without a cache. None = the model's own masks.
    """
    base = model.config._attn_implementation
    if base == KV_BACKEND:
        state = _ACTIVE.get()
        base = state.base if state is not None else "sdpa"
    if base not in ALL_ATTENTION_FUNCTIONS:
        raise UnsupportedModelError(f"KV policies wrap a registered attention backend; load the model with "
                                    f"attn_implementation='sdpa' (it uses {base!r})",
                                    field="attn_implementation", value=base)
    device = next(model.parameters()).device
    tmasks = None
    if masks is not None:
        tmasks = [torch.from_numpy(m).to(device)[None, None] for m in masks]  # [1, 1, T, T]
    with _BACKEND.active(), attention_implementation(model, KV_BACKEND):
        token = _ACTIVE.set(_KVState(base=base, masks=tmasks))
        try:
            yield
        finally:
            _ACTIVE.reset(token)


_BACKEND = AttentionBackend(KV_BACKEND, kv_attention_forward)
