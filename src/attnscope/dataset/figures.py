"""Scorecard figures (matplotlib, Agg): phase diagram, predicted vs measured, imprint regression."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _gamma_errorbars(ax, rows: list[dict], rows_by_key: dict, x_of, flagged_label: str) -> None:
    """Measured text gamma per row, clean ("o") and flagged ("x"), with seed-CI error bars; x from ``x_of(rows)``."""
    for clean, marker, label in ((True, "o", "clean"), (False, "x", flagged_label)):
        rs = [r for r in rows if r["clean"] == clean]
        if not rs:
            continue
        y = np.array([r["gamma"] for r in rs])
        ci = [rows_by_key.get((r["model_id"], "text")) for r in rs]
        err = np.array([[y[i] - c[0], c[1] - y[i]] if c else [0, 0] for i, c in enumerate(ci)]).T
        ax.errorbar(x_of(rs), y, yerr=np.clip(err, 0, None), fmt=marker, ms=5, capsize=2, label=label, alpha=0.8)


def _save(plt, fig, ax, path: Path, legend_size: int) -> Path:
    ax.legend(fontsize=legend_size)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def phase_diagram(sc: dict[str, Any], rows_by_key: dict, path: Path) -> Path:
    """Measured text gamma vs log10 theta, seed-CI error bars, with the Pade curve at the panel's T values."""
    from attnscope.theory import gamma_pade

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    rows = sc["gamma_pade"]["rows"]
    _gamma_errorbars(ax, rows, rows_by_key, lambda rs: np.log10([r["theta"] for r in rs]), "flagged (defects)")
    th = np.logspace(3.5, 6.3, 200)
    for T in sorted({r["T_eval"] for r in rows}):
        ax.plot(np.log10(th), [gamma_pade(t, T) for t in th], lw=1, label=f"gamma_Pade, T={T}")
    ax.set_xlabel("log10 theta (RoPE base)")
    ax.set_ylabel("measured gamma (text)")
    ax.set_title("Phase diagram: measured gamma vs theta (error bars: seed CI)")
    return _save(plt, fig, ax, path, 7)


def predicted_vs_measured(sc: dict[str, Any], rows_by_key: dict, path: Path) -> Path:
    """Measured text gamma (seed-CI error bars) against gamma_Pade(theta, T_eval), with y = x."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    rows = sc["gamma_pade"]["rows"]
    _gamma_errorbars(ax, rows, rows_by_key, lambda rs: [r["gamma_pade"] for r in rs], "flagged")
    ax.plot([0.2, 1.6], [0.2, 1.6], "k--", lw=1, label="y = x")
    ax.set_xlabel("gamma_Pade(theta, T_eval)")
    ax.set_ylabel("measured gamma (text)")
    ax.set_title("gamma_Pade vs measured (error bars: seed CI)")
    return _save(plt, fig, ax, path, 8)


def imprint_regression(sc: dict[str, Any], path: Path) -> Path:
    from attnscope.theory.constants import IMPRINT_CI95, NU_IMPRINT

    plt = _plt()
    im = sc["imprint"]
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    rows = im["rows"]
    for clean, marker, label in ((True, "o", "clean"), (False, "x", "flagged")):
        rs = [r for r in rows if r["clean"] == clean]
        ax.scatter([r["x_log10_P_over_P0"] for r in rs], [r["y_gamma_random_minus_pade"] for r in rs], marker=marker,
                   label=label)
    xs = np.linspace(0, max([r["x_log10_P_over_P0"] for r in rows] + [3]), 50)
    ax.plot(xs, NU_IMPRINT.value * xs, "k-", lw=1, label="claimed: nu log10(P/14M), nu = -1/(2 pi)")
    ax.fill_between(xs, NU_IMPRINT.value * xs - IMPRINT_CI95.value, NU_IMPRINT.value * xs + IMPRINT_CI95.value,
                    color="k", alpha=0.08, label="claimed band +-0.18")
    est = im.get("estimates") or {}
    if "slope" in est:
        ax.plot(xs, est["intercept"] + est["slope"] * xs, "r--", lw=1,
                label=f"fitted (clean): {est['intercept']:.2f} + {est['slope']:.3f} x")
    ax.set_xlabel("log10(P / 14M)")
    ax.set_ylabel("gamma_random - gamma_Pade")
    ax.set_title("Imprint regression (X-21)")
    return _save(plt, fig, ax, path, 7)


def write_figures(sc: dict[str, Any], rows, out_dir: str | Path) -> list[Path]:
    """All scorecard figures into ``out_dir`` as scorecard_*.png; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_ci = {(r.model_id, r.corpus): r.gamma_seed_ci for r in rows if r.kind == "main"}
    return [phase_diagram(sc, seed_ci, out / "scorecard_phase_diagram.png"),
            predicted_vs_measured(sc, seed_ci, out / "scorecard_pade_vs_measured.png"),
            imprint_regression(sc, out / "scorecard_imprint.png")]
