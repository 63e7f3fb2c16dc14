"""X-22: compute–context band — is K = γ·ln(N²·D) inside the published panel band?

K ≈ 51.2 ± 16.8 (n = 22, exploratory); in band when |z| ≤ 1 (TAF §29). γ is the
measured one if given (``gamma``), else the Padé prediction (said in the steps).
D defaults to Chinchilla 20·N (said in the steps).
"""
from __future__ import annotations

from typing import Any

from attnscope.recipes._taf import not_applicable, pade_view
from attnscope.recipes.base import Param, Recipe, RecipeResult, model_name, step
from attnscope.theory.invariant import k_invariant_check


def _run(arch: Any, p: dict[str, Any], prices: Any) -> RecipeResult:
    pv = pade_view(arch, p["context"])
    steps, warnings = list(pv.steps), list(pv.warnings)
    if p["gamma"] is not None:
        gamma, g_src = p["gamma"], "measured (gamma option)"
    elif pv.gamma is not None:
        gamma, g_src = pv.gamma, "predicted γ_Padé (no measured gamma given)"
        warnings.append("K uses the Padé prediction; the published band was fitted on measured γ_text")
    else:
        return not_applicable(RECIPE, arch, p, f"{pv.reason}; give a measured gamma", "K", warnings=warnings)
    N = float(arch.n_params_M) * 1e6
    k = k_invariant_check(gamma, N, p["train_tokens"])
    steps.append(step("K", "K = γ·ln(N²·D)", {"gamma": gamma, "gamma_source": g_src, "N": N,
                      "D": k.D_tokens, "D_source": "Chinchilla 20·N" if k.D_assumed else "train_tokens"}, k.K))
    steps.append(step("z vs panel", "z = (K − 51.2)/16.8", {"K": k.K}, k.z, k.interpretation))
    if p["gamma"] is not None and pv.gamma is not None:
        steps.append(step("γ − γ_Padé", "γ_obs − γ_Padé", {"gamma_obs": p["gamma"], "gamma_pade": pv.gamma},
                          p["gamma"] - pv.gamma, "negative: sub-Padé; positive: supra-Padé"))
    return RecipeResult(
        recipe="X-22", title=RECIPE.title, model=model_name(arch), verdict="IN-BAND" if k.in_band else "OUTLIER",
        value=k.K, value_name="K", params=p, steps=steps, warnings=warnings,
        constants=[c.to_dict() for c in k.constants],
        reason=f"K = {k.K:.1f}, z = {k.z:+.2f} ({k.interpretation}; band is exploratory, n = 22)",
        mitigation=None if k.in_band else "check the tokenizer, the training recipe and fine-tuning history",
    )


RECIPE = Recipe(
    id="X-22", title="Compute–context band", needs_model=True, uses_prices=False, run_fn=_run,
    question="Does γ·ln(N²·D) sit inside the published panel band?",
    fixes="an assumed D (20·N) and a predicted (not measured) γ are said in the output",
    example="attnscope recipe X-22 llama-3-8b -p gamma=1.045",
    params={
        "gamma": Param(float, None, "measured γ_text (default: γ_Padé prediction)"),
        "train_tokens": Param(float, None, "training tokens D (default: 20·N)", 0, True),
        "context": Param(int, None, "T for γ_Padé (default: T_train)", 1),
    },
)
