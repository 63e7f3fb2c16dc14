"""Report sections: pure functions from one record (or card) to a :class:`Section`.

A section is a template name plus its context (numbers already formatted by the template's
filters, figures already rendered to inline SVG). :func:`attnscope.report.render.render_section`
turns one into an HTML fragment, so a web page can show any section on its own.
This module: the TAF card, measurements (A(d), per-layer γ, γ field), γ-field records and
training trajectories. Atlas, depth trajectories, panel and inputs: :mod:`sections_more`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from attnscope.report import fmt
from attnscope.report.figures import decay_svg, heatmap_svg, layer_gamma_svg, training_svg
from attnscope.report.panel import ATTRIBUTION

THERMO_KEYS = (("Z", "partition function Z = Σ d^-γ"), ("U", "U = ⟨ln d⟩ (nats)"), ("S", "entropy S (nats)"),
               ("F", "free energy F = −ln Z / γ"), ("C_V", "heat capacity C_V"))


@dataclass
class Section:
    """One report section: anchor id, title, template and its context, TOC sub-entries."""

    id: str
    title: str
    template: str
    ctx: dict[str, Any]
    group: str
    toc: list[tuple[str, str]] = field(default_factory=list)


def provenance_items(rec: Any, **extra: Any) -> list[tuple[str, Any]]:
    """Ordered (name, value) pairs for a record's provenance <details> block (None values dropped)."""
    items: list[tuple[str, Any]] = [("record key", getattr(rec, "key", None)),
                                    ("schema version", getattr(rec, "schema_version", None)),
                                    ("model", getattr(rec, "model_id", None)),
                                    ("revision", getattr(rec, "revision", None))]
    items += list(extra.items())
    prov = getattr(rec, "provenance", None)
    if prov is not None:
        for k, v in prov.model_dump().items():
            if k == "extra":
                items += [(f"provenance.extra.{kk}", vv) for kk, vv in v.items()]
            else:
                items.append((f"provenance.{k}", v))
    items += [("quality flags", getattr(rec, "quality", None) or None),
              ("warnings", getattr(rec, "warnings", None) or None)]
    return [(k, v) for k, v in items if v not in (None, [], {}, "")]


def record_attribution(rec: Any) -> Optional[str]:
    """The panel data's attribution when a record comes from the packaged TAF data, else None."""
    prov = getattr(rec, "provenance", None)
    if prov is None:
        return None
    source = prov.source or ""
    licence = str((prov.extra or {}).get("license", ""))
    return ATTRIBUTION if source.startswith("tafagent") or "tafagent" in licence else None


# ---------------------------------------------------------------------------------------------- card
def _pred_row(pred: dict[str, Any], key: str, label: str, value: str, note: str = "") -> tuple[str, str, str]:
    if pred.get(key) is None:
        return label, fmt.DASH, pred.get("null_reasons", {}).get(key, "not available")
    return label, value, note


def card_section(card: Any, idx: int) -> Section:
    """The TAF card: predictions (with θ / T used and their sources), constants, recipes, architecture."""
    p = card.predictions
    a = card.arch
    where = f"θ = {fmt.num(p.get('theta_used'))} ({p.get('theta_source')}), T = {fmt.tokens(p.get('T_used'))} " \
            f"({p.get('T_source')})"
    rows = [
        _pred_row(p, "gamma_pade", "γ_Padé(θ, T)", fmt.num(p.get("gamma_pade")), where),
        _pred_row(p, "regime", "regime", str(p.get("regime")), "one threshold set (attnscope.theory.regime)"),
        _pred_row(p, "d_horizon", "d_horizon (tokens)", fmt.tokens(p.get("d_horizon"))),
        _pred_row(p, "D_f_90", "KV window D_f at f = 0.9 (tokens)", fmt.tokens(p.get("D_f_90")),
                  "exact discrete sums, smallest D holding 90% of the attention mass"),
        _pred_row(p, "ntk_alpha", "NTK scaling α", fmt.num(p.get("ntk_alpha")), p.get("ntk_alpha_formula", "")),
        _pred_row(p, "gamma_random_pred", "γ_random predicted (imprint)", fmt.num(p.get("gamma_random_pred")),
                  "uses NU_IMPRINT and P0_IMPRINT (see constants)"),
        _pred_row(p, "K", "invariant K", fmt.num(p.get("K")), p.get("K_note", "")),
    ]
    headline_reason = None
    if p.get("gamma_pade") is None:  # one reason for every prediction: say it once, list only the others
        headline_reason = p.get("null_reasons", {}).get("gamma_pade", "not available")
        rows = [r for r in rows if r[2] != headline_reason]
    thermo = p.get("thermo") or {}
    if thermo:
        rows += [(f"thermo {label}", fmt.num(thermo.get(k)), "closed-form sums over d = 1..T") for k, label in THERMO_KEYS]
    dec = p.get("gamma_decomposition")
    per_type = [{**g, "gamma_pade_s": fmt.num(g.get("gamma_pade")), "D_f_s": fmt.tokens(g.get("D_f_90")),
                 "d_horizon_s": fmt.tokens(g.get("d_horizon")), "window_s": fmt.tokens(g.get("window"))
                 if g.get("window") else "full", "layers_s": _ranges(g.get("layers") or [])}
                for g in p.get("per_layer_type") or []]
    arch_rows = [(k, a.get(k)) for k in ("family", "model_type", "position_encoding", "n_layers", "n_heads", "n_kv_heads",
                                         "d_model", "d_head", "rotary_dim", "rope_theta", "rope_scaling", "sliding_window",
                                         "T_train", "context_length", "n_params_M", "is_moe", "is_instruct")
                 if a.get(k) is not None]
    prov = [("model", card.model), ("source", a.get("source")), ("config sha256", a.get("config_sha256")),
            ("card schema version", card.schema_version), ("method", "closed-form TAF formulas from config.json "
                                                                       "alone (no weights, no sampling: no CIs)")]
    return Section(id=f"card-{idx}", title=f"TAF card: {card.model}", template="card.html.j2", group="card",
                   ctx=dict(card=card, rows=rows, per_type=per_type, headline_reason=headline_reason,
                            per_type_reasons=any(g.get("null_reasons") for g in per_type), constants=p.get("constants") or [],
                            recipes=card.recipes, arch_rows=arch_rows, decomposition=dec, warnings=card.warnings,
                            provenance=prov))


def _ranges(xs: list[int]) -> str:
    """[0,1,2,5,6] -> '0–2, 5–6'."""
    out, start, prev = [], None, None
    for x in sorted(xs):
        if start is None:
            start = prev = x
        elif x == prev + 1:
            prev = x
        else:
            out.append(f"{start}–{prev}" if prev != start else str(start))
            start = prev = x
    if start is not None:
        out.append(f"{start}–{prev}" if prev != start else str(start))
    return ", ".join(out)


# -------------------------------------------------------------------------------------- measurement
def _field_matrix(units: list[Any], attr: str = "gamma") -> list[list[Optional[float]]]:
    L = max(u.layer for u in units) + 1
    H = max(u.head for u in units if u.head is not None) + 1
    M: list[list[Optional[float]]] = [[None] * H for _ in range(L)]
    for u in units:
        if u.head is not None:
            M[u.layer][u.head] = getattr(u, attr)
    return M


def _curve_dict(rec: Any, label: str) -> Optional[dict[str, Any]]:
    m = rec.measurement
    if m.curve is None:
        return None
    fit = (m.fit.log_A, m.gamma, m.fit.d_min) if m.fit is not None and m.method.startswith("ols") else None
    return dict(label=label, distances=m.curve.distances, A=m.curve.A, lo=m.curve.A_ci95_lo, hi=m.curve.A_ci95_hi,
                fit=fit, null=m.null.A_uniform if m.null is not None else None, per_seed=m.curve.A_per_seed)


def record_label(rec: Any) -> str:
    m = rec.measurement
    bits = [m.corpus, m.protocol, f"T={m.T_eval}", m.precision] + (["random init"] if m.random_init else [])
    return f"{rec.model_id} ({', '.join(str(b) for b in bits)})"


def measurement_section(rec: Any, idx: int) -> Section:
    """A(d) with CIs, fit and null; the verdict; per-layer γ; the per-head γ field."""
    m, sid = rec.measurement, f"decay-{idx}"
    n = m.null
    rows = [(f"γ (OLS log-log, d ≥ {m.fit.d_min if m.fit else '?'})", fmt.ci(m.gamma, m.gamma_ci95_lo, m.gamma_ci95_hi),
             m.ci_method)]
    if n is not None:
        rows += [("γ of uniform attention (null)", fmt.num(n.gamma_uniform), "same grid and query positions"),
                 ("excess = γ − γ_uniform", fmt.ci(n.excess, n.excess_ci95_lo, n.excess_ci95_hi), "")]
    if m.mle is not None:
        rows += [(f"γ MLE (truncated power law, d ∈ [{m.mle.d_min}, {m.mle.d_max}])",
                  fmt.ci(m.mle.gamma, m.mle.gamma_ci95_lo, m.mle.gamma_ci95_hi), m.mle.pooling or ""),
                 ("log-likelihood ratio power − geometric (nats/row)",
                  fmt.ci(m.mle.loglik_ratio_power_minus_geom, m.mle.loglik_ratio_ci95_lo, m.mle.loglik_ratio_ci95_hi),
                  "> 0 favours the power law over exponential decay")]
    if m.fit is not None:
        rows += [("R² power law / exponential (log space)", f"{fmt.num(m.fit.R2)} / {fmt.num(m.fit.exp_R2)}",
                  f"ΔR² (power − exp) = {fmt.num(m.fit.delta_R2_power_minus_exp)}; {m.fit.n_points} points")]
    rows += [("sink mass (position 0 / BOS)", fmt.ci(m.sink_mass, m.sink_mass_ci95_lo, m.sink_mass_ci95_hi),
              "excluded from the fits")]
    if rec.predictions.gamma_pade is not None:
        rows.append((f"γ_Padé(θ, T = {fmt.tokens(rec.predictions.T_used)}) (prediction)",
                     fmt.num(rec.predictions.gamma_pade), "closed form, from the config"))
    settings = [("protocol", m.protocol), ("corpus", m.corpus + (f" (published: {m.corpus_original_label})"
                                                                   if m.corpus_original_label else "")),
                ("T_eval (tokens)", fmt.tokens(m.T_eval)), ("prompts per distance", m.n_prompts_per_distance),
                ("seeds", ", ".join(map(str, m.seeds))), ("distances", ", ".join(map(str, m.distances))),
                ("query positions", m.n_query_positions), ("precision", m.precision),
                ("weights", "random init (falsifier)" if m.random_init else "trained")]
    figs, toc = [], []
    cd = _curve_dict(rec, record_label(rec))
    if cd is not None:
        figs.append(("A(d) with 95% CIs (bootstrap over prompts), the OLS fit and the uniform-attention null",
                     decay_svg([cd], fid=f"{sid}-curve")))
    layer_fig = None
    if m.per_layer:
        layer_fig = layer_gamma_svg(m.per_layer, fid=f"{sid}-layers", gamma_uniform=n.gamma_uniform if n else None,
                                    gamma_pade=rec.predictions.gamma_pade)
        toc.append((f"{sid}-per-layer", "per-layer γ"))
    field_fig = None
    if m.per_head:
        field_fig = heatmap_svg(_field_matrix(m.per_head), fid=f"{sid}-field", cbar_label="γ (OLS)",
                                center=n.gamma_uniform if n else None)
        toc.append((f"{sid}-field", "γ field (layer × head)"))
    prov = provenance_items(rec, **{"ci method": m.ci_method, "bootstrap replicates": m.n_boot, "seeds": m.seeds,
                                    "fit method": m.method, "requested": m.requested or None,
                                    "effective": m.effective or None, "decision": rec.decision})
    return Section(id=sid, title=f"Attention decay: {record_label(rec)}", template="measurement.html.j2",
                   group="decay", toc=toc,
                   ctx=dict(rec=rec, m=m, rows=rows, settings=settings, verdict=n.verdict if n else None, figs=figs,
                            layer_fig=layer_fig, field_fig=field_fig, per_layer=m.per_layer or [],
                            per_head=m.per_head or [], provenance=prov, attribution=record_attribution(rec)))


def overlay_section(recs: list[Any]) -> Section:
    """All A(d) curves in one figure (e.g. text vs random corpus, trained vs random init)."""
    curves = [c for c in (_curve_dict(r, record_label(r)) for r in recs) if c is not None]
    return Section(id="decay-overlay", title="A(d): all measurements", template="overlay.html.j2", group="decay",
                   ctx=dict(fig=decay_svg(curves, fid="decay-overlay"), n=len(curves)))


def gamma_field_section(rec: Any, idx: int) -> Section:
    """A γ-field record: the layer × head γ heatmap (and R²), as published."""
    sid = f"field-{idx}"
    fig = heatmap_svg(rec.gamma, fid=f"{sid}-gamma", cbar_label="γ (OLS)", center=0.0)
    r2 = heatmap_svg(rec.R2, fid=f"{sid}-r2", cbar_label="R²", cmap="viridis", vmin=0.0, vmax=1.0)
    rows = [("γ of the head-averaged curve", fmt.num(rec.gamma_global_fit), f"R² = {fmt.num(rec.R2_global)}"),
            ("layers × heads", f"{rec.n_layers} × {rec.n_heads}", ""),
            ("protocol / corpus", f"{rec.protocol} / {rec.corpus or 'not recorded'}", ""),
            ("prompts", rec.n_prompts, f"seeds {', '.join(map(str, rec.seeds))}"),
            ("fit distances", ", ".join(map(str, rec.fit_distances)), "")]
    prov = provenance_items(rec, **{"summary (published)": rec.summary or None})
    return Section(id=sid, title=f"γ field: {rec.model_id}" + (f" @ {rec.revision}" if rec.revision else ""),
                   template="gamma_field.html.j2", group="decay",
                   ctx=dict(rec=rec, rows=rows, fig=fig, r2_fig=r2, provenance=prov,
                            attribution=record_attribution(rec)))


def training_section(rec: Any, idx: int) -> Section:
    """γ across training checkpoints (with benchmark scores when present)."""
    sid = f"training-{idx}"
    cps = sorted(rec.checkpoints, key=lambda c: c.step)
    names = sorted({k for c in cps for k in c.benchmarks})
    fig = training_svg([c.step for c in cps], [c.gamma for c in cps], fid=sid,
                       benchmarks={k: [c.benchmarks.get(k) for c in cps] for k in names[:3]} or None)
    return Section(id=sid, title=f"γ during training: {rec.model_id}", template="training.html.j2", group="training",
                   ctx=dict(rec=rec, checkpoints=cps, bench_names=names, fig=fig, provenance=provenance_items(rec),
                            attribution=record_attribution(rec)))
