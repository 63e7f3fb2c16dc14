"""X-23: induction-head phase — size rule, and the Δγ = γ_text − γ_random sign test if measured.

Size rule: P ≥ 400M ⇒ post-IH (TAF §30, exploratory). Sign test: Δγ > 0 ⇒
post-IH. The published panel means are −0.19 (pre) and +0.03 (post) with std
0.26, so one sign is weak evidence; with a CI of Δγ that covers 0 the phase is
"ambiguous" instead of a sign read out of noise.
"""
from __future__ import annotations

from typing import Any

from attnscope.errors import ConfigError
from attnscope.recipes.base import Param, Recipe, RecipeResult, model_name, step
from attnscope.theory.induction import expected_ih_phase, ih_phase_check


def _run(arch: Any, p: dict[str, Any], prices: Any) -> RecipeResult:
    N = float(arch.n_params_M) * 1e6
    expected = expected_ih_phase(N)
    steps = [step("size-rule phase", "P ≥ 400M ⇒ post-IH", {"P": N}, expected)]
    given = [p["gamma_text"] is not None, p["gamma_random"] is not None]
    if any(given) and not all(given):
        raise ConfigError("give both gamma_text and gamma_random (or neither)",
                          field="gamma_text" if not given[0] else "gamma_random", value=None)
    ci_given = [p["delta_ci_low"] is not None, p["delta_ci_high"] is not None]
    if any(ci_given) and not all(ci_given):
        raise ConfigError("give both delta_ci_low and delta_ci_high (or neither)", field="delta_ci_low", value=None)
    if not all(given):
        return RecipeResult(
            recipe="X-23", title=RECIPE.title, model=model_name(arch), verdict=f"PREDICTED {expected.upper()}",
            value=None, value_name="delta_gamma", params=p, steps=steps,
            reason=f"size rule only (P = {N / 1e6:.0f}M); give gamma_text and gamma_random for the Δγ test",
            mitigation="measure γ on text and on random tokens (attnscope measure --corpus text / random)")
    ci = (p["delta_ci_low"], p["delta_ci_high"]) if all(ci_given) else None
    chk = ih_phase_check(p["gamma_text"], p["gamma_random"], n_params=N, delta_ci=ci)
    steps.append(step("Δγ", "γ_text − γ_random", {"gamma_text": p["gamma_text"], "gamma_random": p["gamma_random"],
                      "delta_ci": ci}, chk.delta_gamma, f"observed phase: {chk.phase_observed}"))
    steps.append(step("panel separation", "(mean_post − mean_pre) / std", {"mean_pre": -0.19, "mean_post": 0.03,
                      "std": 0.26}, (0.03 + 0.19) / 0.26, "< 1: the two panel groups overlap; one sign is weak evidence"))
    if chk.phase_observed == "ambiguous":
        verdict, reason = "AMBIGUOUS", f"Δγ = {chk.delta_gamma:+.3f} and its CI covers 0"
    elif chk.consistent:
        verdict, reason = f"CONSISTENT {chk.phase_observed.upper()}", (
            f"Δγ = {chk.delta_gamma:+.3f} agrees with the size rule ({expected})")
    else:
        verdict, reason = "ANOMALY", (f"Δγ = {chk.delta_gamma:+.3f} suggests {chk.phase_observed} but the size "
                                      f"rule expects {expected}")
    return RecipeResult(
        recipe="X-23", title=RECIPE.title, model=model_name(arch), verdict=verdict, value=chk.delta_gamma,
        value_name="delta_gamma", params=p, steps=steps, reason=reason,
        constants=[c.to_dict() for c in chk.constants],
        mitigation="possible causes: incomplete training, fine-tuning, format conversion" if verdict == "ANOMALY"
        else None)


RECIPE = Recipe(
    id="X-23", title="Induction-head phase", needs_model=True, uses_prices=False, run_fn=_run,
    question="Is this checkpoint before or after induction-head formation?",
    fixes="a CI of Δγ covering 0 gives 'ambiguous' instead of a sign; panel overlap reported",
    example="attnscope recipe X-23 pythia-410m -p gamma_text=0.71 -p gamma_random=0.55",
    params={
        "gamma_text": Param(float, None, "γ measured on natural text"),
        "gamma_random": Param(float, None, "γ measured on random tokens"),
        "delta_ci_low": Param(float, None, "lower bound of the Δγ CI (optional)"),
        "delta_ci_high": Param(float, None, "upper bound of the Δγ CI (optional)"),
    },
)
