"""Head atlas: per-head output geometry (dimension, cross-head overlap with its null) and thermodynamics.

``atlas(source, ...)`` returns an :class:`attnscope.records.AtlasRecord`; the estimators
(``dimension``, ``overlap``, ``analysis``, ``thermo``) are pure numpy/scipy.
"""
from __future__ import annotations

from attnscope._lazy import lazy_exports, make_callable

_LAZY = {"atlas": ("attnscope.atlas.run", "atlas")}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)

make_callable(__name__, "attnscope.atlas.run", "atlas")
