"""Registering an attention backend with transformers for the duration of a block.

transformers looks attention functions up by name (``AttentionInterface``) and,
since v5, builds masks through a matching mask function (``AttentionMaskInterface``;
without it sliding-window and padding masks are silently dropped). A backend here
is registered while at least one block uses it (reference-counted, thread-safe)
and whatever was registered under the name before is restored afterwards. Nothing
is patched at import. Used by the probe (``probe.backend``) and the KV policies
(``kv.cache``); this is the only place that touches the registries.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator

import torch


class AttentionBackend:
    """A named attention function plus transformers' SDPA mask builder, registered while in use."""

    def __init__(self, name: str, forward: Callable):
        self.name = name
        self.forward = forward
        self._lock = threading.Lock()
        self._refcount = 0
        self._saved: dict[str, tuple[bool, object]] = {}

    @staticmethod
    def _interfaces():
        from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
        from transformers.modeling_utils import AttentionInterface

        return (("attn", AttentionInterface, None), ("mask", AttentionMaskInterface, sdpa_mask))

    def acquire(self) -> None:
        with self._lock:
            if self._refcount == 0:
                for label, iface, mask_fn in self._interfaces():
                    mapping = iface._global_mapping
                    self._saved[label] = (self.name in mapping, mapping.get(self.name))
                    iface.register(self.name, self.forward if mask_fn is None else mask_fn)
            self._refcount += 1

    def release(self) -> None:
        with self._lock:
            self._refcount -= 1
            if self._refcount > 0:
                return
            for label, iface, _ in self._interfaces():
                existed, previous = self._saved.pop(label, (False, None))
                if existed:
                    iface._global_mapping[self.name] = previous
                else:
                    iface._global_mapping.pop(self.name, None)

    @property
    def registered(self) -> bool:
        from transformers.modeling_utils import AttentionInterface

        return self.name in AttentionInterface._global_mapping

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


def model_configs(model: torch.nn.Module) -> list:
    """Every config object reachable from the model (top level, submodels, sub-configs)."""
    from transformers import PretrainedConfig

    seen: dict[int, object] = {}
    stack = [getattr(m, "config", None) for m in model.modules()]
    while stack:
        cfg = stack.pop()
        if not isinstance(cfg, PretrainedConfig) or id(cfg) in seen:
            continue
        seen[id(cfg)] = cfg
        for key in getattr(cfg, "sub_configs", {}) or {}:
            stack.append(getattr(cfg, key, None))
    return list(seen.values())


@contextlib.contextmanager
def attention_implementation(model: torch.nn.Module, name: str) -> Iterator[None]:
    """Point every config of ``model`` at the attention implementation ``name``; restore on exit."""
    configs = model_configs(model)
    saved = [(cfg, cfg.__dict__.get("_attn_implementation_internal")) for cfg in configs]
    try:
        for cfg in configs:
            cfg._attn_implementation_internal = name
        yield
    finally:
        for cfg, previous in saved:
            cfg._attn_implementation_internal = previous
