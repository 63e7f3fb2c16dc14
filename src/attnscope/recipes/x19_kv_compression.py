"""X-19: KV compression — soft distance decay, or a hard window at D_f?

D_f(γ, N, f) is the smallest window keeping a fraction f of the power-law
attention mass, computed EXACTLY (theory.kv_window) for every γ — the
published tool used a continuum formula and refused outside γ ∈ [0.65, 0.85].
That band remains the published *validation* zone of D_f compression (an
empirical statement, kept with its provenance), so outside it D_f is reported
but the verdict says it is unvalidated. Soft decay applies when
d_horizon ≥ 1.2·T_train/2 (borderline from 0.8), TAF §26.8.
"""
from __future__ import annotations

from typing import Any

from attnscope.memory import GIB, estimate_memory
from attnscope.recipes._taf import not_applicable, pade_view
from attnscope.recipes.base import Param, Recipe, RecipeResult, model_name, step
from attnscope.recipes.x02_long_context import decomposed
from attnscope.theory.constants import SOFT_DECAY_APPLIES_RATIO, SOFT_DECAY_BORDERLINE_RATIO, Constant
from attnscope.theory.horizon import d_horizon
from attnscope.theory.kv_window import kv_window

DF_ZONE = (0.65, 0.85)
DF_ZONE_CONSTANT = Constant(
    name="DF_VALIDATED_ZONE", value=0.85, n=None, source="karlesmarin/tafagent python/taf_browser.py §26.7 df_window",
    status="exploratory", note="D_f hard-window compression was validated for γ in [0.65, 0.85] (value = upper edge).")


def _run(arch: Any, p: dict[str, Any], prices: Any) -> RecipeResult:
    pv = pade_view(arch, p["context"])
    steps, warnings, consts = list(pv.steps), list(pv.warnings), []
    if p["gamma"] is not None:
        gamma, g_src = p["gamma"], "measured (gamma option)"
        steps = [step("γ (given)", "γ = gamma", {"gamma": gamma}, gamma)]
    elif pv.gamma is not None:
        gamma, s, w, consts = decomposed(arch, pv.gamma, p["exploratory"])
        g_src = "predicted (γ_Padé + validated axes)"
        steps.append(s)
        warnings += w
    else:
        return not_applicable(RECIPE, arch, p, f"{pv.reason}; give a measured gamma", "D_f", warnings=warnings)
    N = p["context"] if p["context"] is not None else pv.group.T
    if N is None:
        return not_applicable(RECIPE, arch, p, "T_train unknown: pass context", "D_f", steps, warnings)
    D = kv_window(gamma, N, p["f"])
    in_zone = DF_ZONE[0] <= gamma <= DF_ZONE[1]
    steps.append(step("D_f (exact)", "min D: Σ_{d≤D} d^−γ ≥ f·Σ_{d≤N} d^−γ",
                      {"gamma": gamma, "gamma_source": g_src, "N": N, "f": p["f"]}, D,
                      f"{'inside' if in_zone else 'outside'} the validated zone γ ∈ [0.65, 0.85]"))
    consts.append(DF_ZONE_CONSTANT.to_dict())
    soft = "unknown"
    theta, T_train = pv.group.theta, getattr(arch, "T_train", None)
    if theta is not None and T_train and 0 < gamma < 1:
        dh = d_horizon(theta, gamma)
        ratio = dh / (T_train / 2)
        soft = ("applies" if ratio >= SOFT_DECAY_APPLIES_RATIO.value else
                "borderline" if ratio >= SOFT_DECAY_BORDERLINE_RATIO.value else "does not apply")
        steps.append(step("soft-decay regime", "d_horizon / (T_train/2) ≥ 1.2 applies, ≥ 0.8 borderline",
                          {"d_horizon": dh, "T_train": T_train}, ratio, soft))
        consts += [SOFT_DECAY_APPLIES_RATIO.to_dict(), SOFT_DECAY_BORDERLINE_RATIO.to_dict()]
    elif theta is None or not T_train:
        warnings.append("soft-decay regime needs a RoPE θ and T_train; not evaluated")
    full = estimate_memory(arch, context=N, batch=1, dtype=p["dtype"])
    cut = estimate_memory(arch, context=D, batch=1, dtype=p["dtype"])
    steps.append(step("KV per sequence, full vs D_f", "Σ_layers min(context, window)·values_per_token·bytes",
                      {"N": N, "D_f": D}, {"full_GiB": full.kv_bytes / GIB, "window_GiB": cut.kv_bytes / GIB,
                                           "saving": 1 - cut.kv_bytes / full.kv_bytes if full.kv_bytes else None}))
    if in_zone and soft == "applies":
        verdict, reason = "SOFT DECAY", "d_horizon ≳ T_train/2 and γ in the validated zone"
    elif in_zone:
        verdict, reason = "HARD WINDOW", f"γ = {gamma:.3f} in the validated zone: keep the last D_f = {D} tokens"
    elif soft == "applies":
        verdict, reason = "SOFT DECAY (caveat)", "soft-decay regime holds but γ is outside the D_f zone"
    else:
        verdict = "UNVALIDATED"
        reason = (f"D_f = {D} is exact for γ = {gamma:.3f}, but D_f compression was only validated for "
                  f"γ ∈ [0.65, 0.85]")
    return RecipeResult(
        recipe="X-19", title=RECIPE.title, model=model_name(arch), verdict=verdict, value=D, value_name="D_f",
        params={**p, "context": N}, steps=steps, warnings=warnings, constants=consts, reason=reason,
        mitigation="validate on your task, or use score-based eviction (SnapKV, PyramidKV)"
        if verdict == "UNVALIDATED" else None)


RECIPE = Recipe(
    id="X-19", title="KV compression", needs_model=True, uses_prices=False, run_fn=_run,
    question="Compress the KV cache with soft decay, or a hard window at D_f?",
    fixes="D_f exact for every γ (published: continuum formula, refused outside [0.65, 0.85]); "
          "disabled SWA axis not applied",
    example="attnscope recipe X-19 pythia-160m -p gamma=0.748 --context 2000",
    params={
        "context": Param(int, None, "N, the context to compress (default: T_train)", 1),
        "f": Param(float, 0.9, "attention-mass fraction to keep, (0, 1]", 0, True, 1),
        "gamma": Param(float, None, "measured γ (default: the decomposed prediction)"),
        "exploratory": Param(bool, False, "also apply the exploratory decomposition axes"),
        "dtype": Param(str, "bf16", "weight dtype for KV bytes: bf16, fp16, int8, nf4"),
    },
)
