"""Depth-trajectory figures and the reference-panel phase diagram (pure: data in -> inline SVG out).

- :func:`trajectory_svg`: per-layer scales of one model from a trajectory JSON (dots), the selected
  fit (line) and the random-init null (dashed); applicable temperature schedules get a panel.
- :func:`phase_svg`: measured γ vs log10 θ for the reference panel, the Padé curves
  γ_Padé(θ, T) for the panel's and the user's contexts, the regime bands, and the user's
  models (measured γ with CI, predicted γ_Padé).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from attnscope.report.figures import ACCENT, FIT, INK, MUTED, NULL, PRED, SERIES, _arr, figure, layer_axis, message_svg, to_svg

PLOT_STAT = {"norm": "mean_abs", "proj": "spectral"}
MAX_PANELS = 16
MAX_LABELLED = 8  # own models named one by one in the phase diagram's legend


def _row_panels(model: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = [(name, PLOT_STAT.get(row.get("kind"), next(iter(row.get("values") or {"?": 0}))), row.get("kind", ""))
           for name, row in model["extraction"]["rows"].items()]
    out += [(f"T:{t['source']}", "temperature", "temperature") for t in model.get("temperature") or []
            if t.get("applicable") and t.get("temperature")]
    return out[:MAX_PANELS]


def _selected_fitted(sel: Optional[dict[str, Any]]) -> Optional[list[float]]:
    if not sel or not sel.get("selected"):
        return None
    fit = (sel.get("fits") or {}).get(sel["selected"])
    return fit.get("fitted") if fit else None


def trajectory_svg(model: dict[str, Any], *, fid: str) -> str:
    """One model's trajectory panels (a ``models[i]`` entry of a trajectory JSON)."""
    panels = _row_panels(model)
    if not panels:
        return message_svg("no rows extracted", fid)
    ncol = min(4, len(panels))
    nrow = math.ceil(len(panels) / ncol)
    null = model.get("null") or {}
    null_rows = (null.get("extraction") or {}).get("rows") or {}
    with figure(2.45 * ncol + 0.3, 2.0 * nrow + 0.5, nrows=nrow, ncols=ncol) as (fig, axes):
        for ax, (name, stat, kind) in zip(axes.flat, panels):
            if kind == "temperature":
                t = next(t for t in model["temperature"] if f"T:{t['source']}" == name)
                xs, ys, fitted = t["layers"], t["temperature"], _selected_fitted(t.get("fit"))
                sel = t.get("fit") or {}
            else:
                row = model["extraction"]["rows"][name]
                xs, ys = row["layers"], row["values"].get(stat, [])
                sel = (model.get("fits") or {}).get(name, {}).get(stat) or {}
                fitted = _selected_fitted(sel)
                nr = null_rows.get(name)
                if nr and stat in nr.get("values", {}):
                    ax.plot(nr["layers"], _arr(nr["values"][stat]), "--", lw=0.9, color=NULL, label="random-init null")
            ax.plot(xs, _arr(ys), "o", ms=2.6, color=ACCENT, label="trained")
            if fitted is not None and len(fitted) == len(xs):
                ax.plot(xs, _arr(fitted), "-", lw=1.1, color=FIT, label=f"fit: {sel.get('selected')}")
            ax.set_title(f"{name} ({stat})", fontsize=7.5, loc="left")
            ax.tick_params(labelsize=6.5)
            ax.set_xlabel("layer", fontsize=7)
            layer_axis(ax)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        handles: dict[str, Any] = {}
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                key = lab if not lab.startswith("fit:") else "fit: selected form"
                handles.setdefault(key, h)
        fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
                   ncol=min(4, len(handles)), fontsize=7)
        return to_svg(fig, fid)


def trajectory_overlay_svg(models: Sequence[dict[str, Any]], *, fid: str) -> str:
    """Several models (or checkpoints) of one trajectory JSON on shared panels, one colour per model.

    Dots: the per-layer statistic; line: each model's selected fit. Rows are those of the first model.
    """
    panels = [p for p in _row_panels(models[0]) if p[2] != "temperature"]
    if not panels:
        return message_svg("no rows extracted", fid)
    ncol = min(4, len(panels))
    nrow = math.ceil(len(panels) / ncol)
    with figure(2.45 * ncol + 0.3, 2.0 * nrow + 0.6, nrows=nrow, ncols=ncol) as (fig, axes):
        for ax, (name, stat, _kind) in zip(axes.flat, panels):
            for i, m in enumerate(models):
                row = m["extraction"]["rows"].get(name)
                if row is None or stat not in row["values"]:
                    continue
                col = SERIES[i % len(SERIES)]
                ax.plot(row["layers"], _arr(row["values"][stat]), "o", ms=2.4, color=col, label=m["label"])
                fitted = _selected_fitted((m.get("fits") or {}).get(name, {}).get(stat))
                if fitted is not None and len(fitted) == len(row["layers"]):
                    ax.plot(row["layers"], _arr(fitted), "-", lw=1.0, color=col)
            ax.set_title(f"{name} ({stat})", fontsize=7.5, loc="left")
            ax.tick_params(labelsize=6.5)
            ax.set_xlabel("layer", fontsize=7)
            layer_axis(ax)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=7)
        return to_svg(fig, fid)


def phase_svg(panel: Sequence[dict[str, Any]], mine: Sequence[dict[str, Any]], T_values: Sequence[float], *,
              fid: str, hagedorn_edge: float) -> str:
    """The phase diagram: γ vs log10 θ with Padé curves and regime bands.

    Parameters
    ----------
    panel : list of dict
        Reference points: ``theta``, ``gamma``, ``lo``, ``hi`` (CI or None), ``corpus``, ``label``.
    mine : list of dict
        The report's own models: ``theta``, ``label`` and ``gamma`` / ``lo`` / ``hi`` (measured) and/or
        ``gamma_pade`` (predicted).
    T_values : list of float
        Contexts (tokens) for which γ_Padé(θ, T) curves are drawn.
    hagedorn_edge : float
        Lower edge of the Hagedorn warning band (from :mod:`attnscope.theory.constants`).
    """
    from attnscope.theory.pade import gamma_pade

    thetas = [p["theta"] for p in [*panel, *mine] if p.get("theta")]
    if not thetas:
        return message_svg("no RoPE θ to place on the phase diagram", fid)
    x_lo = math.floor(math.log10(min(thetas))) - 0.3
    x_hi = math.ceil(math.log10(max(thetas))) + 0.3
    with figure(8.2, 4.2) as (fig, axes):
        ax = axes[0, 0]
        ys = [v for p in [*panel, *mine] for v in (p.get("gamma"), p.get("gamma_pade"), p.get("lo"), p.get("hi"))
              if v is not None and math.isfinite(v)]
        y_lo = min(-0.2, min(ys, default=0) - 0.1)
        y_hi = max(1.2, max(ys, default=1) + 0.1)
        for lo, hi, col, name in ((y_lo, 0.0, "#f5f7fa", "non-decaying (γ ≤ 0)"),
                                  (0.0, hagedorn_edge, "#eef6ff", "phase A"),
                                  (hagedorn_edge, 1.0, "#fff4e5", "Hagedorn boundary"),
                                  (1.0, y_hi, "#fdecec", "phase B (γ ≥ 1)")):
            ax.axhspan(lo, hi, color=col, lw=0, zorder=0)
            ax.text(x_hi - 0.05, (max(lo, y_lo) + min(hi, y_hi)) / 2, name, ha="right", va="center", fontsize=6.5,
                    color=MUTED, zorder=1)
        xs = np.linspace(x_lo, x_hi, 200)
        for i, T in enumerate(sorted(set(float(t) for t in T_values))):
            ax.plot(xs, [gamma_pade(10 ** x, T) for x in xs], ("-", "--", ":")[i % 3], color=PRED, lw=1.3,
                    label=f"γ_Padé(θ, T = {T:,.0f})", zorder=2)
        corpora = sorted({p.get("corpus") or "?" for p in panel})
        markers = {"text": "o", "random": "^"}
        for ci, corpus in enumerate(corpora):
            pts = [p for p in panel if (p.get("corpus") or "?") == corpus and p.get("gamma") is not None]
            if not pts:
                continue
            x = np.log10([p["theta"] for p in pts])
            g = _arr([p["gamma"] for p in pts])
            lo, hi = _arr([p.get("lo") for p in pts]), _arr([p.get("hi") for p in pts])
            err = np.vstack([np.where(np.isfinite(lo), g - lo, 0), np.where(np.isfinite(hi), hi - g, 0)])
            ax.errorbar(x, g, yerr=err, fmt=markers.get(corpus, "s"), ms=3.6, lw=0.6, capsize=0, alpha=0.75,
                        color=["#52606d", "#9aa5b1", "#cbd2d9"][ci % 3], label=f"reference panel ({corpus})", zorder=3)
        grouped = len(mine) > MAX_LABELLED
        seen: set[str] = set()
        for i, p in enumerate(mine):
            col = FIT if grouped else SERIES[(i + 1) % len(SERIES)]
            x = math.log10(p["theta"])
            if p.get("gamma") is not None:
                lo, hi = p.get("lo"), p.get("hi")
                yerr = None if lo is None or hi is None else [[p["gamma"] - lo], [hi - p["gamma"]]]
                label = "this report (measured)" if grouped else f"{p['label']} (measured)"
                ax.errorbar([x], [p["gamma"]], yerr=yerr, fmt="*", ms=11 if not grouped else 8, color=col, capsize=3,
                            zorder=5, mec=INK, mew=0.5, label=None if label in seen else label)
                seen.add(label)
            if p.get("gamma_pade") is not None:
                label = "this report (γ_Padé)" if grouped else f"{p['label']} (γ_Padé)"
                ax.plot([x], [p["gamma_pade"]], "D", ms=6.5, mfc="none", mec=col, mew=1.5, zorder=5,
                        label=None if label in seen else label)
                seen.add(label)
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(y_lo, y_hi)
        ax.set_xlabel("log10 θ (RoPE base)")
        ax.set_ylabel("γ (attention decay exponent)")
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=7)
        return to_svg(fig, fid)
