"""Figures as inline SVG strings: pure functions (data in -> ``<svg>`` text out).

matplotlib's object API (``matplotlib.figure.Figure``) is used directly, never pyplot: no global
figure state and no backend switch; the style (rcParams) is applied under a lock, so the same
functions can serve web pages from threads.
Each SVG gets a caller-given id salt (``fid``) so several figures inline in one page never
share element ids, and the output is deterministic (no date metadata). Text stays text
(``svg.fonttype = none``) and inherits the page's font.

This module: shared helpers, the decay curve A(d), per-layer γ, the γ field heatmap and
γ across training checkpoints. Atlas figures: :mod:`attnscope.report.figures_atlas`;
depth trajectories and the phase diagram: :mod:`attnscope.report.figures_depth`.
"""
from __future__ import annotations

import io
import math
import re
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence

import numpy as np

INK = "#1f2933"
MUTED = "#7b8794"
ACCENT = "#2563eb"
NULL = "#9aa5b1"
FIT = "#dc2626"
PRED = "#059669"
SERIES = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f"]
_LOCK = threading.RLock()  # rcParams are process-global: one figure is styled and saved at a time
RC = {
    "font.size": 8.5, "axes.titlesize": 9, "axes.labelsize": 8.5, "xtick.labelsize": 7.5, "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5, "axes.edgecolor": "#cbd2d9", "axes.labelcolor": INK, "xtick.color": "#52606d",
    "ytick.color": "#52606d", "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.color": "#e4e7eb", "grid.linewidth": 0.6, "legend.frameon": False, "svg.fonttype": "none",
    "font.family": ["DejaVu Sans"], "image.interpolation": "nearest",
}


def _g(v: float) -> str:
    """3 significant digits for legends, never '-0'."""
    s = f"{v:.3g}"
    return "0" if s == "-0" else s


def _arr(values: Sequence[Optional[float]]) -> np.ndarray:
    """A float array with None -> NaN."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


@contextmanager
def figure(width_in: float, height_in: float, *, nrows: int = 1, ncols: int = 1, **kw: Any) -> Iterator[tuple]:
    """A fresh (Figure, axes-array) pair with the report style; no pyplot, no backend switch.

    The style is applied with ``rc_context`` (global rcParams), so figure building is serialised
    by a re-entrant lock: callers build *and* serialise the figure inside the ``with`` block.
    """
    import matplotlib
    from matplotlib.figure import Figure

    with _LOCK, matplotlib.rc_context(RC):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
        yield fig, axes


def to_svg(fig: Any, fid: str) -> str:
    """Serialise a Figure to an inline ``<svg>`` element (responsive width, ids salted by ``fid``)."""
    import matplotlib

    buf = io.StringIO()
    with _LOCK, matplotlib.rc_context({**RC, "svg.hashsalt": f"attnscope-{fid}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    svg = _prefix_ids(svg, fid)
    m = re.match(r'<svg([^>]*?)\swidth="([\d.]+)pt"\sheight="([\d.]+)pt"', svg)
    if m:
        w_px = float(m.group(2)) * 4.0 / 3.0
        svg = (f'<svg{m.group(1)} class="fig" role="img" data-fid="{fid}" '
               f'style="max-width:{w_px:.0f}px"' + svg[m.end():])
    return svg


def _tick_label(sig: int):
    def f(v: float, _pos: Any = None) -> str:
        if 1 <= abs(v) < 1e6 and float(v).is_integer():
            return str(int(v)).replace("-", "\u2212")
        return f"{v:.{sig}g}".replace("-", "\u2212")
    return f


def tidy_log_axis(axis: Any, lo: float, hi: float) -> None:
    """Plain tick labels on a log axis (mathtext labels are slow and unreadable on narrow ranges).

    Over less than a decade the ticks are placed linearly, with enough digits to tell them apart.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

    if not (np.isfinite(lo) and np.isfinite(hi) and lo > 0 and hi > lo):
        return
    if hi / lo < 3:
        axis.set_major_locator(MaxNLocator(5))
        axis.set_minor_locator(NullLocator())
        sig = int(min(6, max(2, math.ceil(math.log10(hi / (hi - lo))) + 1)))
        axis.set_major_formatter(FuncFormatter(_tick_label(sig)))
    else:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if hi / lo < 300 else (1.0,)))
        axis.set_major_formatter(FuncFormatter(_tick_label(3)))
        axis.set_minor_formatter(NullFormatter())


def layer_axis(ax: Any) -> None:
    """Integer ticks on a layer x axis, and no offset on the y axis."""
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    x0, x1 = ax.dataLim.x0, ax.dataLim.x1
    if np.isfinite(x0) and np.isfinite(x1):  # whole layers in view, even with jittered points
        ax.set_xlim(round(x0) - 0.5, round(x1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
    if isinstance(ax.yaxis.get_major_formatter(), ScalarFormatter):
        ax.yaxis.get_major_formatter().set_useOffset(False)


def _prefix_ids(svg: str, fid: str) -> str:
    """Prefix every element id (and its ``#id`` / ``url(#id)`` references) with ``fid``.

    matplotlib names elements ``figure_1``, ``axes_1``, ``line2d_1``…: two inline figures would
    otherwise share ids on one page.
    """
    ids = set(re.findall(r'\sid="([^"]+)"', svg))
    if not ids:
        return svg
    pat = re.compile(r'(\sid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r')(?=[")])')
    return pat.sub(lambda m: f"{m.group(1)}{fid}-{m.group(2)}", svg)


def message_svg(text: str, fid: str) -> str:
    """A small figure holding only a message (e.g. 'no finite values to plot')."""
    with figure(4.0, 0.8) as (fig, axes):
        ax = axes[0, 0]
        ax.axis("off")
        ax.text(0.5, 0.5, text, ha="center", va="center", color=MUTED, transform=ax.transAxes)
        return to_svg(fig, fid)


def decay_svg(curves: Sequence[dict[str, Any]], *, fid: str, title: str = "") -> str:
    """A(d) on log-log axes: each curve with its 95% CI band, its OLS fit line and its uniform null.

    Parameters
    ----------
    curves : list of dict
        Each with ``label``, ``distances`` (tokens), ``A``, ``lo``, ``hi`` (CI bounds, may hold None),
        optional ``fit`` = (log_A, gamma, d_min), ``null`` = A_uniform list, ``per_seed`` =
        [distance][seed] means.
    fid : str
        Unique figure id (SVG id salt).
    """
    with figure(6.4, 3.7) as (fig, axes):
        ax = axes[0, 0]
        ax.set_xscale("log")
        ax.set_yscale("log", nonpositive="mask")
        many = len(curves) > 1
        for i, c in enumerate(curves):
            col = SERIES[i % len(SERIES)] if many else ACCENT
            d = np.asarray(c["distances"], dtype=float)
            A, lo, hi = _arr(c["A"]), _arr(c.get("lo") or [None] * len(d)), _arr(c.get("hi") or [None] * len(d))
            ok = np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
            if ok.any():
                ax.fill_between(d[ok], lo[ok], hi[ok], color=col, alpha=0.18, lw=0, label=None if many else "95% CI")
            if c.get("per_seed"):
                ps = np.array([[np.nan if v is None else v for v in row] for row in c["per_seed"]], dtype=float)
                for s in range(ps.shape[1]):
                    ax.plot(d, ps[:, s], "-", color=col, lw=0.5, alpha=0.35)
            ax.plot(d, A, "o-", color=col, ms=3.2, lw=1.1, label=c["label"] if many else "measured A(d)")
            if c.get("fit") is not None:
                log_A, gamma, d_min = c["fit"]
                if gamma is not None and log_A is not None and math.isfinite(gamma):
                    dd = np.geomspace(max(d_min, d.min()), d.max(), 50)
                    ax.plot(dd, np.exp(log_A) * dd ** (-gamma), "--", color=FIT if not many else col, lw=1.2,
                            label=None if many else f"OLS fit (d ≥ {d_min}): γ = {_g(gamma)}")
            if c.get("null") is not None:
                nu = _arr(c["null"])
                ax.plot(d, nu, ":", color=NULL if not many else col, lw=1.4, alpha=0.9,
                        label=None if many else "uniform-attention null (same grid, queries)")
        if many:
            ax.plot([], [], "--", color=MUTED, label="OLS fit")
            ax.plot([], [], ":", color=MUTED, label="uniform null")
        tidy_log_axis(ax.xaxis, *ax.get_xlim())
        tidy_log_axis(ax.yaxis, *ax.get_ylim())
        ax.set_xlabel("distance d (tokens)")
        ax.set_ylabel("A(d)  (attention at distance d)")
        if title:
            ax.set_title(title, loc="left")
        ax.legend(loc="best")
        return to_svg(fig, fid)


def layer_gamma_svg(units: Sequence[Any], *, fid: str, gamma_uniform: Optional[float] = None,
                    gamma_pade: Optional[float] = None, title: str = "") -> str:
    """Per-layer γ (OLS, and MLE where present) with 95% CIs, the null and the Padé prediction.

    ``units``: :class:`attnscope.records.UnitGamma` objects (head None).
    """
    layers = np.array([u.layer for u in units], dtype=float)
    with figure(6.4, 3.0) as (fig, axes):
        ax = axes[0, 0]
        series = [("OLS γ", "gamma", "gamma_ci95_lo", "gamma_ci95_hi", ACCENT, -0.08),
                  ("MLE γ", "mle_gamma", "mle_gamma_ci95_lo", "mle_gamma_ci95_hi", "#d97706", 0.08)]
        present = [sr for sr in series if np.isfinite(_arr([getattr(u, sr[1]) for u in units])).any()]
        for label, k, klo, khi, col, dx in present:
            dx = dx if len(present) > 1 else 0.0  # side by side only when both estimators are shown
            g = _arr([getattr(u, k) for u in units])
            lo, hi = _arr([getattr(u, klo) for u in units]), _arr([getattr(u, khi) for u in units])
            err = np.vstack([np.where(np.isfinite(lo), g - lo, 0), np.where(np.isfinite(hi), hi - g, 0)])
            ax.errorbar(layers + dx, g, yerr=err, fmt="o-", color=col, ms=3.5, lw=1.0, capsize=2.5,
                        label=f"{label} (95% CI)")
        if gamma_uniform is not None:
            ax.axhline(gamma_uniform, color=NULL, ls=":", lw=1.4, label=f"uniform null γ = {_g(gamma_uniform)}")
        if gamma_pade is not None:
            ax.axhline(gamma_pade, color=PRED, ls="--", lw=1.1, label=f"γ_Padé = {_g(gamma_pade)}")
        ax.set_xlabel("layer")
        ax.set_ylabel("γ")
        layer_axis(ax)
        if title:
            ax.set_title(title, loc="left")
        ax.legend(loc="best")
        return to_svg(fig, fid)


def heatmap_svg(matrix: Sequence[Sequence[Optional[float]]], *, fid: str, title: str = "", cbar_label: str = "",
                center: Optional[float] = None, vmin: Optional[float] = None, vmax: Optional[float] = None,
                cmap: str = "RdBu_r", xlabel: str = "head", ylabel: str = "layer", annotate: Optional[bool] = None) -> str:
    """A layer × head heatmap (None/NaN cells grey); diverging about ``center`` when given."""
    import matplotlib
    from matplotlib.colors import TwoSlopeNorm

    M = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix], dtype=float)
    if M.size == 0 or not np.isfinite(M).any():
        return message_svg("no finite values to plot", fid)
    L, H = M.shape
    lo = float(np.nanmin(M)) if vmin is None else vmin
    hi = float(np.nanmax(M)) if vmax is None else vmax
    norm = None
    if center is not None:
        span = max(abs(hi - center), abs(center - lo), 1e-12)
        norm = TwoSlopeNorm(vcenter=center, vmin=center - span, vmax=center + span)
    w = min(7.2, 1.6 + 0.42 * H)
    h = min(8.5, 1.1 + 0.32 * L)
    with figure(max(w, 3.4), max(h, 1.9)) as (fig, axes):
        ax = axes[0, 0]
        ax.grid(False)
        cm = matplotlib.colormaps[cmap].with_extremes(bad="#e4e7eb")
        im = ax.imshow(np.ma.masked_invalid(M), aspect="auto", cmap=cm, norm=norm,
                       vmin=None if norm else lo, vmax=None if norm else hi)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_xticks(range(H) if H <= 32 else range(0, H, max(1, H // 16)))
        ax.set_yticks(range(L) if L <= 40 else range(0, L, max(1, L // 20)))
        if annotate if annotate is not None else L * H <= 80:
            for (i, j), v in np.ndenumerate(M):
                if np.isfinite(v):
                    r, g, b, _ = cm(im.norm(v))
                    dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                    ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=6.5, color="white" if dark else INK)
        cb = fig.colorbar(im, ax=ax, shrink=0.9)
        cb.set_label(cbar_label)
        if title:
            ax.set_title(title, loc="left")
        return to_svg(fig, fid)


def training_svg(steps: Sequence[int], gammas: Sequence[Optional[float]], *, fid: str, title: str = "",
                 benchmarks: Optional[dict[str, Sequence[Optional[float]]]] = None) -> str:
    """γ across training checkpoints (log step axis when steps span > 2 decades)."""
    s = np.asarray(steps, dtype=float)
    g = _arr(gammas)
    with figure(6.4, 2.8) as (fig, axes):
        ax = axes[0, 0]
        ax.plot(s, g, "o-", color=ACCENT, ms=3.5, lw=1.1, label="γ (OLS)")
        pos = s[s > 0]
        if pos.size and pos.max() / pos.min() > 100:
            ax.set_xscale("symlog", linthresh=max(1.0, float(pos.min())))
        ax.set_xlabel("training step")
        ax.set_ylabel("γ")
        if benchmarks:
            ax2 = ax.twinx()
            ax2.grid(False)
            for i, (name, vals) in enumerate(benchmarks.items()):
                ax2.plot(s, _arr(vals), "s--", ms=2.5, lw=0.8, color=SERIES[(i + 1) % len(SERIES)], label=name)
            ax2.set_ylabel("benchmark")
            ax2.legend(loc="lower right")
        if title:
            ax.set_title(title, loc="left")
        ax.legend(loc="upper left")
        return to_svg(fig, fid)
