"""X-2: long-context viability — will the model serve context L with retrieval?

Steps (TAF §26): γ_Padé(θ, L) of the primary (full-attention) layers → γ
decomposition (validated axes only unless ``exploratory=true``) → regime →
d_horizon = √2·θ(1−γ)/(1+γ) → L_NIAH = 2·d_horizon → KV cache at L (GQA, MLA
and sliding windows counted per layer). Verdict: YES if L < d_horizon,
DEGRADED if L < L_NIAH, else NO; NO outright outside 0 < γ < 1, with the RoPE
base scaling that would bring γ back to the published target 0.85.

Note (Padé identity): d_horizon(θ, γ_Padé(θ, L)) = L exactly, so when no
decomposition axis applies the verdict is DEGRADED by construction — the
verdict is carried entirely by the decomposition constants, whose status is
reported with it.
"""
from __future__ import annotations

from typing import Any

from attnscope.memory import GIB, estimate_memory
from attnscope.recipes._taf import not_applicable, pade_view
from attnscope.recipes.base import Param, Recipe, RecipeResult, model_name, step
from attnscope.theory.constants import L_NIAH_FACTOR, NTK_TARGET_GAMMA
from attnscope.theory.decomposition import gamma_decompose
from attnscope.theory.horizon import d_horizon
from attnscope.theory.ntk import ntk_scaling
from attnscope.theory.regime import regime


def decomposed(arch: Any, gamma_pade: float, exploratory: bool):
    """γ decomposition of the model (shared with X-19) and the γ it selects."""
    windows = getattr(arch, "layer_window", None) or []
    dec = gamma_decompose(gamma_pade, has_gqa=int(arch.n_kv_heads) < int(arch.n_heads),
                          has_swa=any(w for w in windows), n_params=float(arch.n_params_M) * 1e6,
                          is_instruct=bool(getattr(arch, "is_instruct", False)))
    g = dec.gamma_with_exploratory if exploratory else dec.gamma_validated
    terms = {t.axis: {"applies": t.applies, "delta": t.delta, "status": t.status,
                      "included": t.included_in_exploratory if exploratory else t.included_in_validated}
             for t in dec.terms}
    s = step("γ decomposition", "γ_Padé + Σ δ_axis (validated axes" + (" + exploratory)" if exploratory else ")"),
             {"gamma_pade": gamma_pade, "applied": ", ".join(
                 f"{a} {t['delta']:+.2f} ({t['status']})" for a, t in terms.items() if t["included"]) or "none",
              "terms": terms}, g)
    consts = [t.constant.to_dict() for t in dec.terms if t.applies]
    return g, s, list(dec.warnings), consts


def _run(arch: Any, p: dict[str, Any], prices: Any) -> RecipeResult:
    pv = pade_view(arch, p["context"])
    if pv.gamma is None:
        return not_applicable(RECIPE, arch, p, pv.reason, "d_horizon", warnings=pv.warnings)
    g_grp = pv.group
    L = g_grp.T  # the context asked about (the sliding cap is in T_used)
    theta = g_grp.theta
    steps, warnings = list(pv.steps), list(pv.warnings)
    gamma, s, w, consts = decomposed(arch, pv.gamma, p["exploratory"])
    steps.append(s)
    warnings += w
    reg = regime(gamma)
    steps.append(step("regime", "non_decaying γ≤0 | phase_A 0<γ<0.95 | hagedorn_boundary <1 | phase_B γ≥1",
                      {"gamma": gamma}, reg.name))
    est = estimate_memory(arch, context=L, batch=p["batch"], dtype=p["dtype"])
    kv_step = step("KV cache at L", "batch·Σ_layers min(L, window)·values_per_token·bytes",
                   {"L": L, "batch": p["batch"], "dtype": p["dtype"],
                    "per_layer_type": [{"type": k.layer_type, "layers": k.n_layers, "cached_tokens": k.cached_tokens,
                                        "values_per_token": k.values_per_token} for k in est.kv_layers]},
                   est.kv_bytes / GIB, "GiB")
    if g_grp.window is not None and L > g_grp.window:
        warnings.append(f"every layer is sliding-window ({g_grp.window}) < L={L}: no layer attends directly "
                        "beyond the window; retrieval relies on propagation across layers")
    params = {**p, "context": L}
    if not reg.long_range:
        ntk = ntk_scaling(theta, L, gamma_target=NTK_TARGET_GAMMA.value)
        steps += [step("RoPE base for γ* = 0.85", "α = θ_design(0.85, L)/θ", {"theta": theta, "L": L}, ntk.alpha,
                       "zero-shot plausible" if ntk.zero_shot_plausible else "α > 8: fine-tuning required"), kv_step]
        return RecipeResult(recipe="X-2", title=RECIPE.title, model=model_name(arch), verdict="NO", value=None,
                            value_name="d_horizon", params=params, steps=steps, warnings=warnings,
                            constants=consts + [NTK_TARGET_GAMMA.to_dict()],
                            reason=f"γ = {gamma:.3f} ({reg.name}): no long-range horizon at L = {L}",
                            mitigation=f"scale the RoPE base by α = {ntk.alpha:.2f} (θ → {ntk.theta_new:,.0f})")
    dh = d_horizon(theta, gamma)
    l_n = L_NIAH_FACTOR.value * dh
    steps.append(step("d_horizon", "√2·θ·(1 − γ)/(1 + γ)", {"theta": theta, "gamma": gamma}, dh, "tokens"))
    steps.append(step("L_NIAH", "2·d_horizon", {"d_horizon": dh}, l_n, "NIAH 50% length (exploratory factor)"))
    steps.append(kv_step)
    consts.append(L_NIAH_FACTOR.to_dict())
    if L < dh * (1 - 1e-9):  # d_horizon = L exactly when no axis applies: not 'inside'
        verdict, reason, mit = "YES", f"L = {L} is inside d_horizon = {dh:,.0f} ({(1 - L / dh) * 100:.0f}% margin)", None
    elif L < l_n:
        verdict = "DEGRADED"
        reason = f"L = {L} lies between d_horizon = {dh:,.0f} and L_NIAH = {l_n:,.0f}"
        mit = "shorten the context or scale the RoPE base"
    else:
        verdict, reason = "NO", f"L = {L} exceeds L_NIAH = {l_n:,.0f}"
        ntk = ntk_scaling(theta, L, gamma_target=NTK_TARGET_GAMMA.value)
        mit = f"scale the RoPE base by α = {ntk.alpha:.2f} for γ* = 0.85 at L"
    if gamma == pv.gamma:
        warnings.append("no decomposition axis applied: d_horizon = L exactly (Padé identity), so the verdict is "
                        "DEGRADED by construction")
    return RecipeResult(recipe="X-2", title=RECIPE.title, model=model_name(arch), verdict=verdict, value=dh,
                        value_name="d_horizon", params=params, steps=steps, warnings=warnings, constants=consts,
                        reason=reason, mitigation=mit)


RECIPE = Recipe(
    id="X-2", title="Long-context viability", needs_model=True, uses_prices=False, run_fn=_run,
    question="Will the model serve context L doing retrieval (needle in a haystack)?",
    fixes="per-layer-type θ/T (no θ = 10000 default); exploratory/disabled axes are not applied silently; "
          "KV cache counts MLA and sliding windows",
    example="attnscope recipe X-2 llama-3-8b --context 32768",
    params={
        "context": Param(int, None, "context L in tokens (default: T_train)", 1),
        "exploratory": Param(bool, False, "also apply the exploratory decomposition axes"),
        "batch": Param(int, 1, "concurrent sequences for the KV cache", 1),
        "dtype": Param(str, "bf16", "weight dtype for the KV/activation bytes: bf16, fp16, int8, nf4"),
    },
)
