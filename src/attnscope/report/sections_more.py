"""Report sections (continued): head atlas, depth trajectories, reference panel, inputs.

Pure functions from records to :class:`~attnscope.report.sections.Section` objects.
"""
from __future__ import annotations

import math
from typing import Any, Optional

from attnscope.report import fmt
from attnscope.report.figures_atlas import dims_profile_svg, overlap_grid_svg, overlap_profile_svg, thermo_svg
from attnscope.report.figures import SERIES
from attnscope.report.figures_depth import phase_svg, trajectory_overlay_svg, trajectory_svg
from attnscope.report.panel import ATTRIBUTION, PanelView, curve_T_values, nearest, point_of, rank_fraction, theta_of
from attnscope.report.sections import Section, provenance_items

TOC_LABELS = {"profile": "overlap vs depth", "grid": "overlap matrices", "dims": "dimension vs depth",
              "thermo": "thermodynamics"}
SPACE_TITLES = {"head": "head outputs z_h (R^d_head)", "residual": "residual writes z_h W_O^h (R^d_model)",
                "atlas_residual": "ATLAS residual ε = z_h − v_i* (compatibility)"}


# ------------------------------------------------------------------------------------------- atlas
def atlas_section(rec: Any, idx: int) -> Section:
    """Overlap heatmaps with their null, overlap and dimension profiles across depth, per-head thermodynamics."""
    sid = f"atlas-{idx}"
    by_space: dict[str, list[dict[str, Any]]] = {}
    rows = []
    for layer in rec.layers:
        for sp in layer.spaces:
            by_space.setdefault(sp.space, []).append({"layer": layer.layer, "overlap": sp.overlap, "dims": sp.dims})
            ov = sp.overlap
            if ov is not None:
                rows.append(dict(layer=layer.layer, space=sp.space, dim=sp.ambient_dim, overlap=fmt.pair(ov.ci95, ov.mean),
                                 null=fmt.ci(ov.null_mean, ov.null_q025, ov.null_q975),
                                 cos2=f"{fmt.num(ov.mean_cos2)} (null {fmt.num(ov.null_cos2)})",
                                 excess=fmt.num(ov.excess), z=fmt.num(ov.z_score), verdict=ov.verdict,
                                 groups=(f"{fmt.num(ov.intra_group_mean)} / {fmt.num(ov.inter_group_mean)}"
                                         if ov.intra_group_mean is not None else fmt.DASH)))
    figs: list[tuple[str, str, str]] = []  # (anchor, caption, svg)
    figs.append((f"{sid}-profile", "Mean overlap per layer (95% CI, bootstrap over prompts) against the "
                 "random-subspace null (mean and 95% range of independent random k-dim subspaces)",
                 overlap_profile_svg(by_space, fid=f"{sid}-profile")))
    for space, items in by_space.items():
        if any(i["overlap"] is not None for i in items):
            figs.append((f"{sid}-grid-{space}", f"H × H overlap matrices, {SPACE_TITLES.get(space, space)}",
                         overlap_grid_svg(items, fid=f"{sid}-grid-{space}", space=space)))
    for space, items in by_space.items():
        if any(i["dims"] for i in items):
            figs.append((f"{sid}-dims-{space}", f"Intrinsic dimension across depth, {SPACE_TITLES.get(space, space)}: "
                         "per head (dots, 95% CI) and the median over heads (line)",
                         dims_profile_svg(items, fid=f"{sid}-dims-{space}", space=space)))
    thermo_layers = [{"layer": la.layer, "thermo": la.thermo} for la in rec.layers if la.thermo]
    thermo_rows = []
    if thermo_layers:
        figs.append((f"{sid}-thermo", "Per-head row thermodynamics (nats; CIs: bootstrap over prompts)",
                     thermo_svg(thermo_layers, fid=f"{sid}-thermo")))
        for la in thermo_layers:
            for t in la["thermo"]:
                thermo_rows.append(dict(layer=la["layer"], head=t.head, beta=fmt.num(t.beta), F=fmt.num(t.F),
                                        E=fmt.num(t.E), S=fmt.pair(t.S_ci95, t.S), eff=fmt.num(t.eff_keys),
                                        C=fmt.pair(t.C_ci95, t.C)))
    dims_rows = []
    for space, items in by_space.items():
        for it in items:
            for d in it["dims"]:
                dims_rows.append(dict(layer=it["layer"], space=space, head=d.head,
                                      twonn=fmt.pair(d.twonn.ci95, d.twonn.estimate),
                                      twonn_mle=fmt.pair(d.twonn_mle.ci95, d.twonn_mle.estimate),
                                      lb=fmt.pair(d.levina_bickel.ci95, d.levina_bickel.estimate),
                                      pca=d.pca_rank_90, pr=fmt.num(d.participation_ratio)))
    ci_methods = sorted({sp.overlap.ci_method for la in rec.layers for sp in la.spaces if sp.overlap is not None})
    dims_methods = sorted({sp.dims_ci_method for la in rec.layers for sp in la.spaces if sp.dims_ci_method})
    notes = sorted({n for la in rec.layers for n in la.notes})
    prov = provenance_items(rec, **{"overlap CI method": "; ".join(ci_methods) or None,
                                    "dimension CI method": "; ".join(dims_methods) or None,
                                    "parameters": rec.params})
    toc = [(a, TOC_LABELS.get(a[len(sid) + 1:].split("-")[0], "figure") + (f" ({a.split('-', 3)[-1]})"
                                                                            if a.count("-") >= 3 else ""))
           for a, _, _ in figs]
    has_groups = any(r["groups"] != fmt.DASH for r in rows)
    return Section(id=sid, title=f"Head atlas: {rec.model_id}", template="atlas.html.j2", group="atlas", toc=toc,
                   ctx=dict(rec=rec, rows=rows, has_groups=has_groups, k=rec.params.get("k"), figs=figs, thermo_rows=thermo_rows, dims_rows=dims_rows, notes=notes,
                            provenance=prov))


# ------------------------------------------------------------------------------------ trajectories
def _fit_rows(model: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    ratios = ((model.get("null") or {}).get("ratio_to_null") or {})
    for row, by_stat in (model.get("fits") or {}).items():
        for stat, sel in by_stat.items():
            r = [v for v in (ratios.get(row, {}).get(stat) or []) if v is not None and math.isfinite(v)]
            ratio = fmt.num(sum(r) / len(r)) if r else fmt.DASH
            chosen = sel.get("selected")
            if not chosen:
                out.append(dict(row=row, stat=stat, form=fmt.DASH, formula="", params="", r2=fmt.DASH, weight=fmt.DASH,
                                ratio=ratio, note="; ".join(sel.get("notes") or []) or "no form fitted"))
                continue
            f = sel["fits"][chosen]
            params = "; ".join(f"{p['name']} = {fmt.ci(p['value'], p.get('ci_low'), p.get('ci_high'))}"
                               for p in f.get("params", []))
            out.append(dict(row=row, stat=stat, form=chosen, formula=f.get("formula", ""), params=params,
                            r2=fmt.num(f.get("r2")), weight=fmt.num((sel.get("akaike_weights") or {}).get(chosen)),
                            ratio=ratio, note=f"{sel.get('criterion', '').upper()}; CIs: {f.get('ci_method', '?')} "
                                              f"({fmt.num(f.get('ci_level'))})"))
    return out


def trajectory_sections(traj: dict[str, Any], idx: int) -> list[Section]:
    """One section per model of a trajectory JSON (panels, fits with CIs and Akaike weights, temperature),
    preceded by an overlay of all its models when there are several (e.g. checkpoints)."""
    out = []
    if len(traj["models"]) > 1:
        sid = f"trajectory-{idx}-all"
        out.append(Section(id=sid, title=f"Depth trajectories: {len(traj['models'])} models compared",
                           template="overlay.html.j2", group="trajectory",
                           ctx=dict(fig=trajectory_overlay_svg(traj["models"][:len(SERIES)], fid=sid),
                                    n=min(len(traj["models"]), len(SERIES)), caption="models (or checkpoints): "
                                    "per-layer statistic (dots) and each model's selected fit (line)")))
    for j, model in enumerate(traj["models"]):
        sid = f"trajectory-{idx}-{j}"
        temps = [dict(source=t.get("source"), applicable=t.get("applicable"), definition=t.get("definition"),
                      note=t.get("note")) for t in model.get("temperature") or []]
        ext = model["extraction"]
        prov = [("trajectory key", traj.get("key")), ("schema version", traj.get("schema_version")),
                ("parameters", traj.get("params")), ("source", model.get("source")), ("kind", model.get("kind")),
                ("revision", model.get("revision")), ("config sha256", model.get("config_sha256")),
                ("weights files", ext.get("files")), ("norm type / gain convention",
                                                      f"{ext.get('norm_type')} / {ext.get('gain_convention')}"),
                ("power iteration", ext.get("power_iteration")),
                ("null", f"random init, seed {(model.get('null') or {}).get('seed')}" if model.get("null") else
                 "none (--no-null)"),
                ("warnings", (model.get("warnings") or []) + (traj.get("warnings") or []) or None)]
        out.append(Section(
            id=sid, title=f"Depth trajectory: {model['label']}", template="trajectory.html.j2", group="trajectory",
            ctx=dict(model=model, fig=trajectory_svg(model, fid=sid),
                     criterion=str((traj.get("params") or {}).get("criterion", "the criterion")).upper(), fits=_fit_rows(model), temps=temps,
                     notes=(ext.get("notes") or []) + (model.get("temperature_notes") or []),
                     absent=ext.get("absent_rows") or [],
                     provenance=[(k, v) for k, v in prov if v not in (None, [], {}, "")])))
    return out


# ------------------------------------------------------------------------------------------- panel
def _mine(bundle: Any) -> list[dict[str, Any]]:
    """Phase-diagram entries of the report's models: measured points (stars), card predictions (diamonds)."""
    out = []
    card_theta = {}  # θ as the card used it (e.g. rope_theta × a linear rope_scaling factor), by model and config
    for c in bundle.cards:
        th = c.predictions.get("theta_used")
        if th:
            card_theta[c.model] = card_theta[str(c.arch.get("config_sha256"))] = float(th)
    for rec in bundle.measurements:
        p, _ = point_of(rec)
        if p is not None:
            th = card_theta.get(str((rec.arch or {}).get("config_sha256")), card_theta.get(rec.model_id, p.theta))
            out.append(dict(p.as_dict(), theta=th, gamma_pade=None, source="measured"))
    for c in bundle.cards:
        pr = c.predictions
        th = pr.get("theta_used") if pr.get("gamma_pade") is not None else theta_of(c.arch)
        if th:
            out.append(dict(label=c.model, theta=float(th), gamma=None, lo=None, hi=None, T=pr.get("T_used"),
                            corpus=None, protocol=None, gamma_pade=pr.get("gamma_pade"), source="card"))
    return out


def _placements(view: PanelView, mine: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One placement per model: its measured γ per record and its γ_Padé, with the nearest panel models."""
    by_model: dict[str, dict[str, Any]] = {}
    for m in mine:
        model = m["label"].replace(" (random init)", "")
        e = by_model.setdefault(model, dict(label=model, theta=fmt.num(m["theta"]), theta_v=m["theta"], T=m.get("T"),
                                            pade=fmt.DASH, measured=[], corpus=None))
        if m["source"] == "card":
            e["pade"] = fmt.num(m.get("gamma_pade"))
            continue
        rank = rank_fraction(view.points, m["gamma"], m.get("corpus"))
        e["corpus"] = e["corpus"] or m.get("corpus")
        e["measured"].append(dict(what=f"{m.get('corpus')}, {m.get('protocol')}, T = {fmt.tokens(m.get('T'))}"
                                       + (", random init" if "(random init)" in m["label"] else ""),
                                  gamma=fmt.ci(m.get("gamma"), m.get("lo"), m.get("hi")),
                                  rank=(f"above {fmt.pct(rank[0], 0)} of {rank[1]} panel γ ({m.get('corpus')})"
                                        if rank else fmt.DASH)))
    for e in by_model.values():
        corpus = e["corpus"] or "text"  # γ_Padé is a prediction of γ on text
        near = nearest(view.points, e["theta_v"], corpus, e["T"]) if view.points else []
        e["near_corpus"] = corpus
        e["near"] = [dict(label=p.label, theta=fmt.num(p.theta), T=fmt.tokens(p.T), corpus=p.corpus,
                          gamma=fmt.ci(p.gamma, p.lo, p.hi), pade=fmt.num(p.gamma_pade)) for p in near]
    return list(by_model.values())


def panel_section(view: PanelView, bundle: Any) -> Section:
    """Where the report's models sit on the reference panel's phase diagram (γ vs log10 θ)."""
    from attnscope.theory.constants import HAGEDORN_WARNING_GAMMA

    mine = _mine(bundle)
    pts = [p.as_dict() for p in view.points]
    fig = None
    if pts or mine:
        fig = phase_svg(pts, mine, curve_T_values(view.points, mine), fid="panel-phase",
                        hagedorn_edge=HAGEDORN_WARNING_GAMMA.value)
    placements = _placements(view, mine)
    protocols = sorted({p.protocol for p in view.points if p.protocol})
    mixed = sorted({m["protocol"] for m in mine if m.get("protocol")} - set(protocols))
    excluded = sorted(view.excluded.items(), key=lambda kv: (-kv[1], kv[0]))
    prov = [("panel records", view.n_records), ("points shown (clean, RoPE, with γ)", len(view.points)),
            ("panel protocols", ", ".join(protocols) or None), ("data", ATTRIBUTION)]
    return Section(id="panel", title="Reference panel: phase diagram", template="panel.html.j2", group="panel",
                   ctx=dict(fig=fig, placements=placements, excluded=excluded, note=view.note, n_points=len(view.points),
                            protocols=protocols, mixed=mixed, attribution=ATTRIBUTION, provenance=prov))


def inputs_section(bundle: Any, extra_notes: Optional[list[str]] = None) -> Section:
    """What each INPUT was detected as, with its sha256, and the report-level warnings."""
    return Section(id="inputs", title="Inputs and provenance", template="inputs.html.j2", group="inputs",
                   ctx=dict(inputs=bundle.inputs, warnings=list(bundle.warnings) + list(extra_notes or [])))
