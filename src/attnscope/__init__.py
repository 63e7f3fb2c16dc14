"""attnscope: predict and measure how transformer language models attend.

Heavy modules (torch, transformers) are imported lazily: ``import attnscope``
and the config-only commands never import torch.
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "card": ("attnscope.card", "card"),
    "load_arch": ("attnscope.arch", "load_arch"),
    "ArchSpec": ("attnscope.arch", "ArchSpec"),
    "measure": ("attnscope.measure", "measure"),
    "atlas": ("attnscope.atlas", "atlas"),
    "trajectory": ("attnscope.trajectory", "trajectory"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'attnscope' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
