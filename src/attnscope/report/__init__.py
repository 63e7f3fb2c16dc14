"""Self-contained HTML reports of cards and records (``attnscope report``).

Public API
----------
- :func:`render_report` (inputs -> HTML text), :func:`render_bundle` (loaded inputs -> HTML text).
- :func:`load_inputs` (detect and load INPUTs), :func:`build_sections` / :func:`render_section`
  (one section as an HTML fragment, for web pages), :func:`sections_for` (the sections of one card,
  record or trajectory), :func:`stylesheet` (the CSS those fragments need).
- :mod:`attnscope.report.figures` (+ ``figures_atlas``, ``figures_depth``): pure data -> inline SVG.

jinja2 templates live in ``report/templates``; matplotlib is used through its object API, never
pyplot (figures are styled and saved under a lock: safe from threads). No torch import.
"""
from __future__ import annotations

from attnscope.report.inputs import Bundle, load_inputs
from attnscope.report.render import (
    build_sections, render_bundle, render_report, render_section, sections_for, stylesheet,
)

__all__ = ["Bundle", "build_sections", "load_inputs", "render_bundle", "render_report", "render_section", "sections_for",
           "stylesheet"]
