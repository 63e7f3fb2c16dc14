"""attnscope: predict and measure how transformer language models attend.

Heavy modules (torch, transformers) are imported lazily: ``import attnscope``
and the config-only commands never import torch. ``measure``, ``atlas`` and
``trajectory`` are subpackages that are also callable as their main function.
"""
from __future__ import annotations

from attnscope._lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "card": ("attnscope.card", "card"),
    "load_arch": ("attnscope.arch", "load_arch"),
    "ArchSpec": ("attnscope.arch", "ArchSpec"),
    "measure": ("attnscope.measure", "measure"),
    "atlas": ("attnscope.atlas", "atlas"),
    "trajectory": ("attnscope.trajectory", "trajectory"),
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = ["__version__", *_LAZY]
