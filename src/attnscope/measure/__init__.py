"""Measuring attention decay from weights: protocols, corpora, fits, statistics, records.

``measure(source, ...)`` (and ``measure_model(model, tokenizer, ...)`` for a model
already in memory) return a :class:`attnscope.records.MeasurementRecord`. The
estimators (``fits``, ``mle``, ``bootstrap``, ``nulls``, ``analysis``) are pure
numpy and import without torch.
"""
from __future__ import annotations

import sys
import types

_LAZY = {
    "measure": ("attnscope.measure.run", "measure"),
    "measure_model": ("attnscope.measure.run", "measure_model"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'attnscope.measure' has no attribute {name!r}")


__all__ = list(_LAZY)


class _CallableModule(types.ModuleType):
    """``attnscope.measure(...)`` calls :func:`attnscope.measure.run.measure`.

    ``attnscope.measure`` is both this package and the public function: once the
    package is imported, the attribute ``attnscope.measure`` is the package, so
    the package forwards calls to the function.
    """

    def __call__(self, *args, **kwargs):
        from attnscope.measure.run import measure

        return measure(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

