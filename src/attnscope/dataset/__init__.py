"""The reference panel: the published TAF measurements as packaged records, their
re-derivation, the scorecard of every TAF prediction, and comparison of a user's
own records against the panel.

Data: ``attnscope/data/tafagent/`` (converted from ``karlesmarin/tafagent`` ``data/``,
Apache-2.0, Copyright 2026 Carles Marin; see its NOTICE.md).

Public entry points
-------------------
- :func:`attnscope.dataset.load.load_panel` - the packaged records.
- :func:`attnscope.dataset.rederive.rederive_record` - re-fit one record from its A(d).
- :func:`attnscope.dataset.score.scorecard` - accuracy of every TAF claim on the panel.
- :func:`attnscope.dataset.compare.compare_records` - place a user's records against the panel.
- :func:`attnscope.dataset.convert.convert_tafagent` - raw files -> records (used by
  ``scripts/convert_tafagent.py``).
"""
