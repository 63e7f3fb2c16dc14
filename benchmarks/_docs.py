"""Shared by the result benchmarks: rewrite the results part of a docs page, keeping its intro."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

MARKER = "<!-- results -->"


def render_results(results: list[dict], *, page: Path, figure_prefix: str,
                   plot: Callable[[dict, Path], None], section: Callable[[dict, str], str]) -> None:
    """One figure and one markdown section per result; the page's text above MARKER is kept."""
    parts = []
    for d in results:
        fig = f"{figure_prefix}{d['model_id']}.png"
        plot(d, page.parent / "figures" / fig)
        parts.append(section(d, fig))
    intro = page.read_text().split(MARKER)[0] if page.exists() else "# Results\n\n"
    page.write_text(intro + MARKER + "\n\n" + "\n".join(parts))
