"""Measure a panel of models: many (model, revision, corpus, precision, protocol) jobs.

- :func:`attnscope.panel.spec.load_panel` - read and validate a ``panel.toml``.
- :func:`attnscope.panel.jobs.expand_jobs` - the jobs and their keys.
- :func:`attnscope.panel.run.run_panel` - run the missing jobs (local or Ray executor), resumable.
- :func:`attnscope.panel.run.panel_status` - done / failed (with reasons) / pending jobs.
- :func:`attnscope.panel.run.score_panel` - the store's records through the reference-panel scorecard.
- :class:`attnscope.panel.store.Store`, :func:`attnscope.panel.store.export_parquet` - the result store.

Nothing here imports torch at import time.
"""
from __future__ import annotations

from attnscope._lazy import lazy_exports

_LAZY = {
    "load_panel": ("attnscope.panel.spec", "load_panel"),
    "PanelSpec": ("attnscope.panel.spec", "PanelSpec"),
    "expand_jobs": ("attnscope.panel.jobs", "expand_jobs"),
    "Job": ("attnscope.panel.jobs", "Job"),
    "run_panel": ("attnscope.panel.run", "run_panel"),
    "panel_status": ("attnscope.panel.run", "panel_status"),
    "panel_records": ("attnscope.panel.run", "panel_records"),
    "score_panel": ("attnscope.panel.run", "score_panel"),
    "Store": ("attnscope.panel.store", "Store"),
    "export_parquet": ("attnscope.panel.store", "export_parquet"),
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
