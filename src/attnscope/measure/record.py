"""Assemble a :class:`~attnscope.records.MeasurementRecord` from a finished run."""
from __future__ import annotations

import datetime as _dt
import math
from typing import TYPE_CHECKING, Any, Optional

from attnscope.errors import AttnscopeError
from attnscope.measure.nulls import VERDICT_SAME
from attnscope.records import (Curve, MeasurementRecord, Measurement, MLEFit, NullBaseline, OLSFit, Predictions,
                               Provenance, UnitGamma)

if TYPE_CHECKING:  # pragma: no cover
    from attnscope.measure.analysis import Estimate
    from attnscope.measure.run import ModelInfo, RunResult
    from attnscope.measure.settings import MeasureSettings


def _f(x: Any) -> Optional[float]:
    """float, with NaN/inf -> None (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _ci_text(methods: dict[str, str], n_boot: int, seed: int, n_prompts: int) -> str:
    parts = ", ".join(f"{k} {v}" for k, v in methods.items())
    return (f"cluster bootstrap over {n_prompts} prompts (n_boot={n_boot}, seed={seed}); 95% intervals: "
            f"{parts}; curve, per-layer and per-head: percentile")


def predictions(arch: Optional[dict[str, Any]], T_eval: int) -> Predictions:
    """gamma_Pade(theta, T_eval) and the imprint prediction; None with a note when undefined."""
    from attnscope.theory.constants import NU_IMPRINT
    from attnscope.theory.imprint import gamma_random_pred
    from attnscope.theory.pade import gamma_pade

    notes: list[str] = []
    nu = float(NU_IMPRINT.value)
    if arch is None:
        return Predictions(imprint_constant_nu=nu, T_used=T_eval, notes=["no parsed architecture"])
    theta = arch.get("rope_theta")
    if arch.get("position_encoding") != "rope" or theta is None:
        notes.append(f"gamma_pade needs a RoPE theta; position encoding is {arch.get('position_encoding')!r}")
        return Predictions(imprint_constant_nu=nu, T_used=T_eval, notes=notes)
    thetas = {t for t in (arch.get("layer_rope_theta") or []) if t is not None}
    if len(thetas) > 1:
        notes.append(f"layers use different RoPE bases {sorted(thetas)}; gamma_pade uses the full-attention "
                     f"theta {theta}")
    if arch.get("rope_scaling"):
        notes.append(f"rope_scaling {arch['rope_scaling']} is not part of the Pade formula (base theta only)")
    try:
        g = gamma_pade(float(theta), float(T_eval))
    except AttnscopeError as exc:
        return Predictions(imprint_constant_nu=nu, T_used=T_eval, notes=notes + [exc.one_line()])
    n_params = arch.get("n_params_M")
    gr = None
    if n_params:
        gr = gamma_random_pred(g, float(n_params) * 1e6)
    else:
        notes.append("gamma_random_pred needs the parameter count")
    return Predictions(gamma_pade=g, gamma_random_pred=gr, imprint_constant_nu=nu, T_used=T_eval, notes=notes)


def decision(gamma: float, verdict: str) -> str:
    """The decay regime of gamma, claimed only when gamma is distinguishable from uniform attention."""
    if verdict == VERDICT_SAME:
        return "indistinguishable from uniform attention: no regime claimed"
    from attnscope.theory.regime import regime

    return regime(gamma).name


def _unit(layer: int, head: Optional[int], g: "Estimate", gu: float, **extra: Any) -> UnitGamma:
    return UnitGamma(layer=layer, head=head, gamma=_f(g.value), gamma_ci95_lo=_f(g.lo), gamma_ci95_hi=_f(g.hi),
                     excess=_f(g.value - gu), **{k: _f(v) for k, v in extra.items()})


def _units(result: "RunResult", per_head: bool) -> tuple[list[UnitGamma], Optional[list[UnitGamma]]]:
    a = result.analysis
    gul = a.layer_gamma_uniform  # each unit's excess is over its own layer's null (sliding windows)
    layers = [_unit(l, None, g, gul[l], R2=a.layer_R2[l], sink_mass=a.layer_sink[l],
                    entropy_nats=result.entropy[l].mean(), log_z=result.log_z[l].mean())
              for l, g in enumerate(a.layer_gamma)]
    if not per_head:
        return layers, None
    heads = []
    for l, row in enumerate(a.head_gamma):
        for h, g in enumerate(row):
            mle = a.head_mle_gamma[l][h] if a.head_mle_gamma else None
            heads.append(_unit(l, h, g, gul[l], R2=a.head_R2[l][h], sink_mass=a.head_sink[l][h],
                               entropy_nats=result.entropy[l, h], log_z=result.log_z[l, h],
                               mle_gamma=mle.value if mle else None, mle_gamma_ci95_lo=mle.lo if mle else None,
                               mle_gamma_ci95_hi=mle.hi if mle else None))
    return layers, heads


def build_record(*, key: str, settings: "MeasureSettings", info: "ModelInfo", result: "RunResult",
                 notes: list[str]) -> MeasurementRecord:
    """The record of one finished run (see records.py for the meaning of each field)."""
    import torch
    import transformers

    import attnscope

    a, plan, pr = result.analysis, result.plan, result.prompts
    methods = dict(a.methods)
    ci_method = _ci_text(methods, a.n_boot, settings.boot_seed, a.n_prompts)
    mle = None
    extra_warnings = []
    if a.mle_gamma is not None and not math.isfinite(a.mle_gamma.value):
        extra_warnings.append(f"no MLE fit: no layer sees the whole window [{plan.window[0]}, {plan.window[1]}]")
    elif a.mle_gamma is not None:
        lo_, hi_ = plan.window
        mle = MLEFit(gamma=a.mle_gamma.value, gamma_ci95_lo=_f(a.mle_gamma.lo), gamma_ci95_hi=_f(a.mle_gamma.hi),
                     lambda_geom=a.mle_lambda, loglik_ratio_power_minus_geom=a.mle_llr.value,
                     loglik_ratio_ci95_lo=_f(a.mle_llr.lo), loglik_ratio_ci95_hi=_f(a.mle_llr.hi),
                     d_min=lo_, d_max=hi_, n_rows=a.n_prompts * result.n_queries_effective,
                     gamma_uniform=a.mle_gamma_uniform, n_at_bound=a.mle_n_at_bound,
                     pooling="per (layer, head) fit on its rows, then mean over heads, then layers",
                     ci_method=f"{a.mle_gamma.method} (same bootstrap)")
    per_layer, per_head = _units(result, settings.per_head)
    curve = Curve(distances=list(plan.distances), A=[float(e.value) for e in a.curve],
                  A_ci95_lo=[_f(e.lo) for e in a.curve], A_ci95_hi=[_f(e.hi) for e in a.curve])
    null = NullBaseline(gamma_uniform=a.gamma_uniform, excess=a.excess.value, excess_ci95_lo=_f(a.excess.lo),
                        excess_ci95_hi=_f(a.excess.hi), A_uniform=a.curve_uniform, verdict=a.verdict)
    fit = OLSFit(log_A=a.log_A, R2=_f(a.R2), n_points=a.n_points, d_min=settings.d_min, exp_lambda=_f(a.exp_lambda),
                 exp_R2=_f(a.exp_R2), delta_R2_power_minus_exp=_f(a.R2 - a.exp_R2))
    precision = settings.dtype + ("+4bit" if settings.load_in_4bit else "")
    m = Measurement(
        gamma=_f(a.gamma.value), gamma_ci95_lo=_f(a.gamma.lo), gamma_ci95_hi=_f(a.gamma.hi), ci_method=ci_method,
        n_boot=a.n_boot, method="ols_loglog", fit=fit, protocol=plan.protocol, T_eval=plan.T_eval,
        corpus=pr.label, n_prompts_per_distance=a.n_prompts, seeds=list(settings.seeds),
        distances=list(plan.distances), precision=precision, curve=curve, null=null, mle=mle,
        sink_mass=_f(a.sink.value), sink_mass_ci95_lo=_f(a.sink.lo), sink_mass_ci95_hi=_f(a.sink.hi),
        per_layer=per_layer, per_head=per_head,
        n_query_positions=result.n_queries_effective, random_init=settings.random_init,
        requested={"prompts_per_seed": settings.prompts, "seeds": list(settings.seeds), "T": settings.T,
                   "queries_per_prompt": settings.queries if plan.protocol == "rows" else 1,
                   "distances": list(plan.distances), "n_boot": settings.n_boot},
        effective={"prompts": a.n_prompts, "forward_passes": result.n_forwards,
                   "queries_per_prompt": result.n_queries_effective,
                   "query_range": list(plan.query_range()) if plan.protocol == "rows" else None,
                   "prompt_tokens": plan.prompt_length, "bos_prepended": pr.bos_id is not None,
                   "sink_position": 0, "mle_window": list(plan.window) if plan.window else None, **pr.info},
    )
    prov = Provenance(
        attnscope=attnscope.__version__, transformers=transformers.__version__, torch=torch.__version__,
        device=result.device, dtype=settings.dtype, wall_s=round(result.wall_s, 3),
        config_sha256=info.config_sha256, source=info.source,
        created_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        extra={"weights": info.weights, "bootstrap_seed": settings.boot_seed,
               "init_seed": settings.seeds[0] if settings.random_init else None},
    )
    warnings = list(info.warnings) + list(notes) + list(pr.warnings) + extra_warnings
    if settings.random_init:
        warnings.append("random_init: freshly initialised weights (seeded), not the trained checkpoint")
    if a.mle_n_undefined:
        warnings.append(f"MLE: {a.mle_n_undefined} (layer, head) units have no fit on the window "
                        f"[{plan.window[0]}, {plan.window[1]}] (a sliding window hides part of it, or no mass) "
                        f"and are left out of the pooled MLE gamma")
    if a.mle_n_at_bound:
        warnings.append(f"MLE: {a.mle_n_at_bound} (layer, head) fits hit the gamma search bound")
    return MeasurementRecord(
        key=key, model_id=info.model_id, revision=settings.revision, arch=info.arch, measurement=m,
        predictions=predictions(info.arch, plan.T_eval), decision=decision(a.gamma.value, a.verdict),
        warnings=warnings, provenance=prov,
    )
