"""The reference panel: the published TAF measurements as packaged records, their
re-derivation, the scorecard of every TAF prediction, and comparison of a user's
own records against the panel.

Data: ``attnscope/data/tafagent/`` (converted from ``karlesmarin/tafagent`` ``data/``,
Apache-2.0, Copyright 2026 Carles Marin; see its NOTICE.md).

Public entry points (importable from here, loaded lazily)
----------------------------------------------------------
- :func:`load_panel` (``dataset.load``) - the packaged records; :func:`find_model`.
- :func:`rederive_record` (``dataset.rederive``) - re-fit one record from its A(d).
- :func:`scorecard` (``dataset.score_more``) - accuracy of every TAF claim on the panel.
- :func:`compare_records` (``dataset.compare``) - place a user's records against the panel.
- :func:`convert_tafagent` (``dataset.convert``) - raw files -> records (used by
  ``scripts/convert_tafagent.py``).
"""
from __future__ import annotations

_LAZY = {
    "load_panel": "attnscope.dataset.load",
    "find_model": "attnscope.dataset.load",
    "rederive_record": "attnscope.dataset.rederive",
    "scorecard": "attnscope.dataset.score_more",
    "compare_records": "attnscope.dataset.compare",
    "read_user_records": "attnscope.dataset.compare",
    "convert_tafagent": "attnscope.dataset.convert",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'attnscope.dataset' has no attribute {name!r}")


__all__ = list(_LAZY)
