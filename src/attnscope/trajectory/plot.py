"""One PNG per family: every row's trajectory for each model, its null and selected fit.

Norm rows show mean |gain|, projection rows the spectral norm; an applicable
temperature schedule gets its own panel. matplotlib with the Agg backend.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from attnscope.trajectory.run import ModelTrajectory

PLOT_STAT = {"norm": "mean_abs", "proj": "spectral"}


def _panels(models: Sequence[ModelTrajectory]) -> list[tuple[str, str, str]]:
    seen: dict[str, tuple[str, str, str]] = {}
    for m in models:
        for name, row in m.extraction.rows.items():
            seen.setdefault(name, (name, PLOT_STAT[row.kind], row.kind))
        for t in m.temperature:
            if t.applicable:
                seen.setdefault(f"T:{t.source}", (f"T:{t.source}", "temperature", "temperature"))
    return list(seen.values())


def plot_family(models: Sequence[ModelTrajectory], path: str | Path) -> Path:
    """Write the family's figure to ``path`` (PNG) and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = _panels(models)
    ncol = min(4, max(1, len(panels)))
    nrow = max(1, math.ceil(len(panels) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow), squeeze=False)
    for ax, (name, stat, kind) in zip(axes.flat, panels):
        for ci, m in enumerate(models):
            color = f"C{ci % 10}"
            if kind == "temperature":
                t = next((t for t in m.temperature if f"T:{t.source}" == name and t.applicable), None)
                if t is None:
                    continue
                xs, ys, sel = t.layers, t.temperature, t.fit
            else:
                row = m.extraction.rows.get(name)
                if row is None or stat not in row.values:
                    continue
                xs, ys, sel = row.layers, row.values[stat], m.fits[name][stat]
                if m.null is not None and name in m.null.extraction.rows:
                    nr = m.null.extraction.rows[name]
                    ax.plot(nr.layers, nr.values[stat], ls="--", lw=0.8, color=color, alpha=0.6)
            ax.plot(xs, ys, "o", ms=2.5, color=color, label=m.label)
            if sel is not None and sel.selected is not None:
                fx, fy = list(map(float, xs)), list(sel.fits[sel.selected].fitted)
                if sel.selected == "piecewise_exponential":  # no line across the split
                    s = sel.fits[sel.selected].params[-1].value
                    j = next(k for k, v in enumerate(fx) if v >= s)
                    fx, fy = fx[:j] + [float("nan")] + fx[j:], fy[:j] + [float("nan")] + fy[j:]
                ax.plot(fx, fy, "-", lw=1.0, color=color, alpha=0.8)
        ax.set_title(f"{name} ({stat})", fontsize=8)
        ax.set_xlabel("layer", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    family = models[0].family if models else "?"
    null = ", random-init null (dashed)" if any(m.null is not None for m in models) else ""
    fig.suptitle(f"{family}: per-layer scales (dots), selected fit (line){null}", fontsize=9)
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_all(models: Sequence[ModelTrajectory], folder: str | Path) -> list[Path]:
    """One ``<family>.png`` per family in ``folder``."""
    by_family: dict[str, list[ModelTrajectory]] = {}
    for m in models:
        by_family.setdefault(m.family, []).append(m)
    return [plot_family(ms, Path(folder) / f"trajectory_{fam}.png") for fam, ms in sorted(by_family.items())]
