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

from attnscope._lazy import lazy_exports

_LAZY = {
    "load_panel": ("attnscope.dataset.load", "load_panel"),
    "find_model": ("attnscope.dataset.load", "find_model"),
    "rederive_record": ("attnscope.dataset.rederive", "rederive_record"),
    "scorecard": ("attnscope.dataset.score_more", "scorecard"),
    "compare_records": ("attnscope.dataset.compare", "compare_records"),
    "read_user_records": ("attnscope.dataset.compare", "read_user_records"),
    "convert_tafagent": ("attnscope.dataset.convert", "convert_tafagent"),
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
