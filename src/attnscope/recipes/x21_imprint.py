"""X-21: imprint purity — predicted γ on random tokens, and (with a measurement) its residual.

γ_random = γ_Padé(θ, T) + ν·log10(P/14M), ν = −1/(2π) (TAF §28.1). With a
measured ``gamma_random_obs``, the residual obs − pred is "clean" inside the
published ±0.18 band (exploratory constant), else over-/under-imprinted.
"""
from __future__ import annotations

from typing import Any

from attnscope.recipes._taf import not_applicable, pade_view
from attnscope.recipes.base import Param, Recipe, RecipeResult, model_name, step
from attnscope.theory.imprint import imprint


def _run(arch: Any, p: dict[str, Any], prices: Any) -> RecipeResult:
    pv = pade_view(arch, p["context"])
    if pv.gamma is None:
        return not_applicable(RECIPE, arch, p, pv.reason, "gamma_random_pred", warnings=pv.warnings)
    N = float(arch.n_params_M) * 1e6
    imp = imprint(pv.gamma, N, p["gamma_random_obs"])
    steps = list(pv.steps)
    steps.append(step("imprint shift", "ν·log10(P/P0), ν = −1/(2π), P0 = 14M", {"P": N}, imp.shift))
    steps.append(step("γ_random predicted", "γ_Padé + shift", {"gamma_pade": pv.gamma}, imp.gamma_random_pred))
    consts = [c.to_dict() for c in imp.constants]
    if imp.residual is None:
        return RecipeResult(
            recipe="X-21", title=RECIPE.title, model=model_name(arch), verdict="PREDICTION ONLY",
            value=imp.gamma_random_pred, value_name="gamma_random_pred", params=p, steps=steps,
            warnings=pv.warnings, constants=consts,
            reason=f"predicted γ_random = {imp.gamma_random_pred:.3f} (±0.18, exploratory band); "
                   "give gamma_random_obs to test purity",
            mitigation="measure γ on random tokens: attnscope measure MODEL --corpus random")
    steps.append(step("imprint residual", "γ_random_obs − γ_random_pred",
                      {"gamma_random_obs": imp.gamma_random_obs}, imp.residual,
                      "clean inside ±0.18 (IMPRINT_CI95, exploratory)"))
    verdict = {"clean": "CLEAN", "over-imprinted": "OVER-IMPRINTED", "under-imprinted": "UNDER-IMPRINTED"}[imp.purity]
    return RecipeResult(
        recipe="X-21", title=RECIPE.title, model=model_name(arch), verdict=verdict, value=imp.residual,
        value_name="imprint_residual", params=p, steps=steps, warnings=pv.warnings, constants=consts,
        reason=f"residual {imp.residual:+.3f} vs band ±0.18 ({imp.purity})",
        mitigation=None if imp.purity == "clean" else
        "far from the prediction: check for heavy fine-tuning, format conversion or a tokenizer mismatch",
    )


RECIPE = Recipe(
    id="X-21", title="Imprint purity", needs_model=True, uses_prices=False, run_fn=_run,
    question="How far is γ on random tokens from the size-imprint prediction?",
    fixes="P must be > 0 (the published code clamped it silently); constants carry n/source/status",
    example="attnscope recipe X-21 pythia-160m -p gamma_random_obs=0.62",
    params={
        "gamma_random_obs": Param(float, None, "γ measured on random tokens (optional)"),
        "context": Param(int, None, "T for γ_Padé (default: T_train)", 1),
    },
)
