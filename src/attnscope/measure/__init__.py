"""Measuring attention decay from weights: protocols, corpora, fits, statistics, records.

``measure(source, ...)`` (and ``measure_model(model, tokenizer, ...)`` for a model
already in memory) return a :class:`attnscope.records.MeasurementRecord`. The
estimators (``fits``, ``mle``, ``bootstrap``, ``nulls``, ``analysis``) are pure
numpy and import without torch.
"""
from __future__ import annotations

from attnscope._lazy import lazy_exports, make_callable

_LAZY = {
    "measure": ("attnscope.measure.run", "measure"),
    "measure_model": ("attnscope.measure.run", "measure_model"),
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)

make_callable(__name__, "attnscope.measure.run", "measure")
