"""Scorecard: the axes of the published gamma decomposition (GQA, SWA, post-IH, instruct).

TAF §26.10 / §28.3 (``gamma_decompose``): gamma_text = gamma_Pade + delta_GQA [n_kv < n_heads]
+ delta_SWA [sliding window] + delta_post_IH [P >= 400M] + delta_instruct [instruct model].
Each axis is scored as the difference of the mean residual (gamma_text - gamma_Pade(theta,
T_eval)) between models with and without the feature, on the clean main text runs, against the
published delta (constants carry their n and status).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from attnscope.dataset import stats as st
from attnscope.dataset.panel import Row


def _axes() -> dict[str, tuple[Any, Any]]:
    from attnscope.theory.constants import DELTA_GQA, DELTA_INSTRUCT, DELTA_POST_IH, DELTA_SWA, IH_THRESHOLD_PARAMS

    return {
        "gqa": (DELTA_GQA, lambda r: None if r.n_kv_heads is None or r.n_heads is None else r.n_kv_heads < r.n_heads),
        "swa": (DELTA_SWA, lambda r: r.sliding_window is not None),
        "post_ih": (DELTA_POST_IH, lambda r: None if not r.n_params else r.n_params >= IH_THRESHOLD_PARAMS.value),
        "instruct": (DELTA_INSTRUCT, lambda r: r.is_instruct),
    }


def score_decomposition(rows: list[Row]) -> dict[str, Any]:
    """One entry per axis: n with / without, mean residual difference with a stratified bootstrap CI."""
    from attnscope.theory import gamma_pade

    every = [r for r in rows if r.kind == "main" and r.corpus == "text" and r.rope]
    use = [r for r in every if r.clean]
    resid = {r.key: r.gamma - gamma_pade(r.theta, r.T_eval) for r in every}

    def split(rs, has):
        yes = [r for r in rs if has(r) is True]
        no = [r for r in rs if has(r) is False]
        a = np.array([resid[r.key] for r in yes])
        b = np.array([resid[r.key] for r in no])
        est = float(a.mean() - b.mean()) if a.size and b.size else None
        return yes, no, est, st.diff_means_ci(a, b)

    axes: dict[str, Any] = {}
    for name, (const, has) in _axes().items():
        yes, no, est, ci = split(use, has)
        ya, na, est_a, ci_a = split(every, has)
        axes[name] = {"claimed_delta": const.value, "constant_status": const.status, "constant_n": const.n,
                      "n_with": len(yes), "n_without": len(no), "delta": est, "delta_ci95": ci,
                      "verdict": st.verdict_value(const.value, ci, min(len(yes), len(no)), min_n=2),
                      "with": [r.model_id for r in yes],
                      "all_usable": {"n_with": len(ya), "n_without": len(na), "delta": est_a, "delta_ci95": ci_a}}
    n_ok = sum(1 for v in axes.values() if v["delta"] is not None)
    return {
        "claim": "gamma_text = gamma_Pade + delta_GQA + delta_SWA + delta_post_IH + delta_instruct",
        "source": "TAF §26.10 gamma_decompose / §28.3 gamma_decompose_v2; theory.constants", "n": len(use),
        "estimates": {k: v["delta"] for k, v in axes.items()},
        "ci95": {k: v["delta_ci95"] for k, v in axes.items()},
        "ci_method": "stratified percentile bootstrap of the difference of mean residuals (n_boot=2000, seed=0)",
        "axes": axes,
        "all_usable": {"n": len(every), **{f"{k}_delta": v["all_usable"]["delta"] for k, v in axes.items()},
                       **{f"{k}_delta_ci95": v["all_usable"]["delta_ci95"] for k, v in axes.items()}},
        "verdict": "; ".join(f"{k}: {v['verdict']}" for k, v in axes.items()) if n_ok else "untestable",
        "caveat": "axes are confounded on this panel (most GQA models are also post-IH and large-theta); one "
                  "difference of means per axis, no joint fit",
    }
