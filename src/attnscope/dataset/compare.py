"""Place a user's measurement records against the reference panel.

For each user record with a gamma: the nearest panel models by gamma (same corpus) and
by architecture (RoPE theta and parameter count), and which TAF rules hold for it
(gamma_Pade error against the panel's error distribution, the uniform null, K band,
imprint band, power law vs exponential, and the induction-head sign when the file has
both a text and a random record of the same model).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from attnscope.errors import RecordError


def read_user_records(path: str | Path) -> list:
    """MeasurementRecords from a JSONL file (other kinds are ignored; none at all is an error)."""
    from attnscope.dataset.load import parse_record
    from attnscope.io import read_jsonl
    from attnscope.records import MeasurementRecord

    recs = [parse_record(o) for o in read_jsonl(path)]
    meas = [r for r in recs if isinstance(r, MeasurementRecord)]
    if not meas:
        raise RecordError("no measurement records in the file", field="path", value=str(path))
    return meas


def _nearest_by_gamma(g: float, corpus: str, panel, k: int) -> list[dict]:
    same = [r for r in panel if r.corpus == corpus] or panel
    same = sorted(same, key=lambda r: abs(r.gamma - g))[:k]
    return [{"model_id": r.model_id, "corpus": r.corpus, "gamma": r.gamma, "gamma_seed_ci95": r.gamma_seed_ci,
             "difference": g - r.gamma} for r in same]


def _nearest_by_arch(theta, n_params, corpus: str, panel, k: int) -> list[dict]:
    if not theta or not n_params:
        return []
    cand = [r for r in panel if r.rope and r.n_params and r.corpus == corpus]
    dist = (lambda r: math.hypot(math.log10(r.theta) - math.log10(theta), math.log10(r.n_params) - math.log10(n_params)))
    return [{"model_id": r.model_id, "theta": r.theta, "n_params": r.n_params, "gamma": r.gamma,
             "distance_log10": dist(r)} for r in sorted(cand, key=dist)[:k]]


def _defects(rec) -> list[str]:
    """The panel's fit-level defect rules applied to a user record (same thresholds as the conversion)."""
    from attnscope.dataset.rederive import MIN_FIT_POINTS_FLAG, R2_FLAG

    f = rec.measurement.fit
    out = list(rec.quality)
    if f is not None and f.n_points <= MIN_FIT_POINTS_FLAG:
        out.append(f"fit_le_3_points:n={f.n_points}")
    if f is not None and f.R2 is not None and f.R2 < R2_FLAG:
        out.append(f"R2_below_0.9:R2={f.R2:.4f}")
    return out


def _rules(rec, row, panel_pade_abs_err: np.ndarray) -> dict[str, Any]:
    from attnscope.theory import gamma_pade, imprint, k_invariant_check

    m = rec.measurement
    out: dict[str, Any] = {}
    if row.rope:
        gp = gamma_pade(row.theta, m.T_eval)
        err = m.gamma - gp
        pct = float(np.mean(panel_pade_abs_err <= abs(err))) if panel_pade_abs_err.size else None
        out["gamma_pade"] = {"gamma_pade": gp, "T_used": m.T_eval, "error": err,
                             "abs_error_percentile_in_panel": pct,
                             "holds": abs(err) <= float(np.median(panel_pade_abs_err)) if panel_pade_abs_err.size else None}
    else:
        out["gamma_pade"] = {"holds": None, "reason": "no RoPE theta in the record's arch"}
    if m.null is not None:
        out["uniform_null"] = {"gamma_uniform": m.null.gamma_uniform, "excess": m.null.excess,
                               "verdict": m.null.verdict}
    if row.n_params:
        kc = k_invariant_check(m.gamma, row.n_params)
        out["K"] = {"K": kc.K, "z": kc.z, "holds": kc.in_band, "D_assumed": kc.D_assumed}
        if m.corpus == "random" and row.rope:
            im = imprint(gamma_pade(row.theta, m.T_eval), row.n_params, m.gamma)
            out["imprint"] = {"gamma_random_pred": im.gamma_random_pred, "residual": im.residual,
                              "holds": im.purity == "clean", "purity": im.purity}
    if m.fit is not None and m.fit.R2 is not None and m.fit.exp_R2 is not None:
        out["power_vs_exp"] = {"R2_power": m.fit.R2, "R2_exp": m.fit.exp_R2, "holds": m.fit.R2 > m.fit.exp_R2}
    return out


def compare_records(user_records, *, k: int = 3, panel_records=None) -> dict[str, Any]:
    """Compare each user MeasurementRecord with the clean panel.

    Parameters
    ----------
    user_records : list of MeasurementRecord
        E.g. :func:`read_user_records` of an ``attnscope measure`` results file.
    k : int
        Nearest panel runs to list (by gamma, and by log10 theta / log10 parameters).
    panel_records : list of MeasurementRecord, optional
        The panel (default: the packaged one).

    Returns
    -------
    dict
        ``records`` (one entry per user record with ``nearest_by_gamma``, ``nearest_by_arch``
        and ``rules``: gamma_pade, uniform_null, K, imprint, power_vs_exp, each with ``holds``),
        ``ih_sign`` (per model with text and random records), ``skipped`` and ``notes``.
    """
    from attnscope.dataset.load import load_panel
    from attnscope.dataset.panel import panel_rows, record_row
    from attnscope.theory import gamma_pade, ih_phase_check

    panel = [r for r in panel_rows(load_panel() if panel_records is None else panel_records)
             if r.kind == "main" and r.clean]
    pade_err = np.array([abs(r.gamma - gamma_pade(r.theta, r.T_eval)) for r in panel if r.rope and r.corpus == "text"])
    results, skipped = [], []
    rows = {}
    for rec in user_records:
        row = record_row(rec)
        if row is None:
            skipped.append({"key": rec.key, "model_id": rec.model_id, "reason": "no headline gamma"})
            continue
        rows[(rec.model_id, rec.measurement.corpus)] = (rec, row)
        results.append({"key": rec.key, "model_id": rec.model_id, "corpus": rec.measurement.corpus,
                        "protocol": rec.measurement.protocol, "gamma": rec.measurement.gamma,
                        "defects": _defects(rec),
                        "nearest_by_gamma": _nearest_by_gamma(row.gamma, row.corpus, panel, k),
                        "nearest_by_arch": _nearest_by_arch(row.theta, row.n_params, row.corpus, panel, k),
                        "rules": _rules(rec, row, pade_err)})
    ih = []
    for (model, corpus), (rec, row) in rows.items():
        if corpus == "text" and (model, "random") in rows:
            rr = rows[(model, "random")][1]
            ph = ih_phase_check(row.gamma, rr.gamma, n_params=row.n_params)
            ih.append({"model_id": model, "delta_gamma": ph.delta_gamma, "expected": ph.phase_expected,
                       "observed": ph.phase_observed, "holds": ph.consistent})
    notes = []
    if any(getattr(r.measurement, "random_init", False) for r in user_records):
        notes.append("some records come from freshly initialised weights (--random-init); the panel holds trained "
                     "models only, so their rules are expected to fail")
    if any(r["protocol"] != "taf-e4" for r in results):
        notes.append("records measured with another protocol than taf-e4 are compared with the taf-e4 panel: "
                     "gamma values are not on the same footing (different null, grid and query set)")
    return {"n_records": len(results), "panel_size": len(panel), "records": results, "ih_sign": ih,
            "skipped": skipped, "notes": notes}
