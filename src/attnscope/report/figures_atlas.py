"""Head-atlas figures (pure: AtlasRecord pieces in -> inline SVG out).

- :func:`overlap_grid_svg`: the H × H subspace-overlap matrix of each layer (one space), with
  each panel titled by its mean overlap, CI and the random-subspace null.
- :func:`overlap_profile_svg`: mean overlap per layer with CIs against the null's 95% range.
- :func:`dims_profile_svg`: intrinsic dimension across depth (per head with CIs, median line).
- :func:`thermo_svg`: per-head row entropy and heat capacity across depth, with CIs.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from attnscope.report.figures import ACCENT, INK, MUTED, NULL, SERIES, _arr, figure, layer_axis, message_svg, to_svg

MAX_GRID = 36  # layers drawn in one overlap grid
DENSE_POINTS = 400  # per-head points above which error bars are rasterised inside the SVG


def _fmt(v: Optional[float]) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.2f}"


def overlap_grid_svg(panels: Sequence[dict[str, Any]], *, fid: str, space: str, cos2: bool = False) -> str:
    """H × H overlap matrices, one small panel per layer (diagonal masked: a head with itself).

    Parameters
    ----------
    panels : list of dict
        ``layer``, ``overlap`` (:class:`attnscope.records.AtlasOverlap`).
    space : str
        Name of the space (for the title).
    cos2 : bool
        Show mean cos² of principal angles instead of mean cosine.
    """
    panels = [p for p in panels if p.get("overlap") is not None][:MAX_GRID]
    if not panels:
        return message_svg(f"no overlap matrices in space {space!r}", fid)
    n = len(panels)
    ncol = min(4, n)
    nrow = math.ceil(n / ncol)
    with figure(1.9 * ncol + 0.9, 2.0 * nrow + 0.3, nrows=nrow, ncols=ncol) as (fig, axes):
        im = None
        for ax, p in zip(axes.flat, panels):
            ov = p["overlap"]
            M = np.array(ov.matrix_cos2 if cos2 else ov.matrix, dtype=float)
            np.fill_diagonal(M, np.nan)
            ax.grid(False)
            im = ax.imshow(np.ma.masked_invalid(M), vmin=0.0, vmax=1.0, cmap="viridis")
            H = M.shape[0]
            ticks = range(H) if H <= 16 else range(0, H, max(1, H // 8))
            ax.set_xticks(list(ticks))
            ax.set_yticks(list(ticks))
            ax.tick_params(labelsize=6)
            stat = ov.mean_cos2 if cos2 else ov.mean
            null = ov.null_cos2 if cos2 else ov.null_mean
            rng = "" if cos2 else f" [{_fmt(ov.null_q025)}, {_fmt(ov.null_q975)}]"
            ax.set_title(f"layer {p['layer']}: {_fmt(stat)}\nnull {_fmt(null)}{rng}", fontsize=7.5)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        if im is not None:
            cb = fig.colorbar(im, ax=axes, shrink=0.8)
            cb.set_label("mean cos² of principal angles" if cos2 else "mean cosine of principal angles")
        fig.suptitle(f"head-subspace overlap, {space} space (diagonal masked)", fontsize=9, color=INK)
        return to_svg(fig, fid)


def overlap_profile_svg(series: dict[str, list[dict[str, Any]]], *, fid: str) -> str:
    """Mean overlap per layer with its CI, per space, against the null's mean and 95% range.

    ``series[space]``: list of ``{"layer", "overlap"}`` with AtlasOverlap values.
    """
    spaces = [s for s, items in series.items() if any(i.get("overlap") is not None for i in items)]
    if not spaces:
        return message_svg("no overlaps to plot", fid)
    with figure(3.3 * len(spaces) + 0.4, 2.8, ncols=len(spaces)) as (fig, axes):
        for ax, space in zip(axes.flat, spaces):
            items = [i for i in series[space] if i.get("overlap") is not None]
            L = np.array([i["layer"] for i in items], dtype=float)
            m = np.array([i["overlap"].mean for i in items])
            lo = np.array([i["overlap"].ci95[0] for i in items])
            hi = np.array([i["overlap"].ci95[1] for i in items])
            nm = np.array([i["overlap"].null_mean for i in items])
            nlo = np.array([i["overlap"].null_q025 for i in items])
            nhi = np.array([i["overlap"].null_q975 for i in items])
            if len(L) > 1:
                ax.fill_between(L, nlo, nhi, color=NULL, alpha=0.3, lw=0, label="null 95% range")
                ax.plot(L, nm, ":", color=MUTED, lw=1.2, label="null mean")
            else:
                ax.errorbar(L, nm, yerr=[nm - nlo, nhi - nm], fmt="s", color=MUTED, ms=3, capsize=3,
                            label="null mean, 95% range")
            ax.errorbar(L, m, yerr=[m - lo, hi - m], fmt="o-", color=ACCENT, ms=3.5, lw=1.0, capsize=2.5,
                        label="measured (95% CI)")
            ax.set_title(f"{space} space", loc="left")
            ax.set_xlabel("layer")
            ax.set_ylabel("mean overlap")
            layer_axis(ax)
        axes.flat[0].legend(loc="best")
        return to_svg(fig, fid)


ESTIMATORS = (("twonn", "TwoNN (fit)"), ("twonn_mle", "TwoNN (MLE)"), ("levina_bickel", "Levina–Bickel"))


def dims_profile_svg(per_layer: Sequence[dict[str, Any]], *, fid: str, space: str) -> str:
    """Intrinsic dimension across depth: per-head estimates with CIs (dots) and the median over heads (line).

    ``per_layer``: list of ``{"layer", "dims": [AtlasHeadDims]}`` for one space.
    """
    rows = [r for r in per_layer if r.get("dims")]
    if not rows:
        return message_svg(f"no dimension estimates in space {space!r}", fid)
    dense = sum(len(r["dims"]) for r in rows) > DENSE_POINTS  # thousands of error bars: embed them as pixels
    with figure(9.6, 2.8, ncols=3, sharey=True) as (fig, axes):
        for ax, (key, name) in zip(axes.flat, ESTIMATORS):
            med_x, med_y = [], []
            for r in rows:
                H = len(r["dims"])
                est = _arr([getattr(d, key).estimate for d in r["dims"]])
                lo = _arr([getattr(d, key).ci95[0] for d in r["dims"]])
                hi = _arr([getattr(d, key).ci95[1] for d in r["dims"]])
                x = r["layer"] + (np.arange(H) - (H - 1) / 2) * (0.5 / max(H, 1))
                err = np.vstack([np.where(np.isfinite(lo), est - lo, 0), np.where(np.isfinite(hi), hi - est, 0)])
                ax.errorbar(x, est, yerr=err, fmt="o", ms=2.2, lw=0.6, color=SERIES[0], alpha=0.55, capsize=0,
                            rasterized=dense)
                if np.isfinite(est).any():
                    med_x.append(r["layer"])
                    med_y.append(float(np.nanmedian(est)))
            ax.plot(med_x, med_y, "-", color=INK, lw=1.3, label="median over heads")
            ax.set_title(name, loc="left")
            ax.set_xlabel("layer")
            layer_axis(ax)
        axes[0, 0].set_ylabel(f"intrinsic dimension ({space})")
        axes[0, 0].legend(loc="best")
        return to_svg(fig, fid)


def thermo_svg(per_layer: Sequence[dict[str, Any]], *, fid: str) -> str:
    """Per-head row thermodynamics across depth at β closest to 1: entropy S and heat capacity C with CIs,
    and the mean entropy against β per layer.

    ``per_layer``: list of ``{"layer", "thermo": [HeadThermo]}``.
    """
    rows = [r for r in per_layer if r.get("thermo")]
    if not rows:
        return message_svg("no per-head thermodynamics in the record", fid)
    betas = sorted({t.beta for r in rows for t in r["thermo"]})
    b1 = min(betas, key=lambda b: abs(b - 1.0))
    dense = sum(1 for r in rows for t in r["thermo"] if t.beta == b1) > DENSE_POINTS
    with figure(9.6, 2.8, ncols=3) as (fig, axes):
        for ax, (attr, ci_attr, label) in zip(axes.flat[:2], (("S", "S_ci95", "entropy S (nats)"),
                                                                ("C", "C_ci95", "heat capacity C = Var(s)"))):
            for r in rows:
                th = [t for t in r["thermo"] if t.beta == b1]
                H = len(th)
                x = r["layer"] + (np.arange(H) - (H - 1) / 2) * (0.5 / max(H, 1))
                v = np.array([getattr(t, attr) for t in th])
                lo = np.array([getattr(t, ci_attr)[0] for t in th])
                hi = np.array([getattr(t, ci_attr)[1] for t in th])
                ax.errorbar(x, v, yerr=[np.maximum(v - lo, 0), np.maximum(hi - v, 0)], fmt="o", ms=2.4, lw=0.7,
                            color=ACCENT, alpha=0.7, capsize=0, rasterized=dense)
            ax.set_title(f"{label}, β = {b1:g}", loc="left")
            ax.set_xlabel("layer")
            layer_axis(ax)
        ax = axes.flat[2]
        for i, r in enumerate(rows):
            ys = [np.mean([t.S for t in r["thermo"] if t.beta == b]) if any(t.beta == b for t in r["thermo"])
                  else np.nan for b in betas]
            ax.plot(betas, ys, "o-", ms=2.5, lw=1.0, color=SERIES[i % len(SERIES)], label=f"layer {r['layer']}")
        ax.set_xlabel("β (inverse temperature)")
        ax.yaxis.get_major_formatter().set_useOffset(False)
        ax.set_title("mean entropy vs β", loc="left")
        if len(rows) <= 8:
            ax.legend(loc="best", ncol=2)
        return to_svg(fig, fid)
