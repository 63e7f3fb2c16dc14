"""Induction-head (IH) phase sign test, Δγ = γ_text − γ_random.

TAF §30 (karlesmarin/tafagent ``python/taf_browser.py`` ``ih_phase_check``,
recipe X-23): Δγ > 0 ⟺ post-IH (text concentrates attention more than random
tokens); the size rule expects post-IH for P ≥ 400M parameters
(constants.IH_THRESHOLD_PARAMS; panel pre-IH ⟨Δγ⟩ = −0.19, post-IH +0.03,
std 0.26 — the groups overlap heavily, so the status is exploratory).

Difference from the published code: if a confidence interval of Δγ is given
and it contains 0, the observed phase is "ambiguous" instead of reading a sign
out of noise.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from attnscope.errors import DomainError
from attnscope.theory import _validate as v
from attnscope.theory.constants import (
    IH_DELTA_POST_MEAN,
    IH_DELTA_PRE_MEAN,
    IH_DELTA_STD,
    IH_THRESHOLD_PARAMS,
    Constant,
)


def expected_ih_phase(n_params: float) -> str:
    """Size rule: "post-IH" if P ≥ 400M parameters else "pre-IH" (P absolute, > 0)."""
    p = v.positive("n_params", n_params)
    return "post-IH" if p >= IH_THRESHOLD_PARAMS.value else "pre-IH"


@dataclass(frozen=True)
class IHPhase:
    """Result of :func:`ih_phase_check`.

    Attributes
    ----------
    delta_gamma : float
        γ_text − γ_random.
    delta_ci : tuple of float or None
        CI of Δγ, if given.
    phase_observed : {"post-IH", "pre-IH", "ambiguous"}
    phase_expected : {"post-IH", "pre-IH"} or None
        From the 400M size rule, if n_params given.
    consistent : bool or None
        observed == expected (None if either is unknown/ambiguous).
    constants : tuple of Constant
    """

    delta_gamma: float
    delta_ci: tuple[float, float] | None
    phase_observed: str
    phase_expected: str | None
    consistent: bool | None
    constants: tuple[Constant, ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["constants"] = [c.to_dict() for c in self.constants]
        return d


def ih_phase_check(gamma_text: float, gamma_random: float, *, n_params: float | None = None,
                   delta_ci: tuple[float, float] | None = None) -> IHPhase:
    """Induction-head sign test.

    Parameters
    ----------
    gamma_text, gamma_random : float
        Exponents measured on natural text and on random tokens.
    n_params : float, optional
        Parameter count (absolute) for the size-rule expectation.
    delta_ci : (float, float), optional
        Confidence interval of Δγ (e.g. bootstrap over prompts). If it contains 0
        the observed phase is "ambiguous".
    """
    gt = v.real("gamma_text", gamma_text)
    gr = v.real("gamma_random", gamma_random)
    delta = gt - gr
    ci = None
    if delta_ci is not None:
        lo, hi = (v.real("delta_ci", x) for x in delta_ci)
        if lo > hi:
            raise DomainError("lower bound above upper bound", field="delta_ci", value=delta_ci)
        ci = (lo, hi)
    if ci is not None and ci[0] <= 0.0 <= ci[1]:
        observed = "ambiguous"
    elif delta > 0:
        observed = "post-IH"
    elif delta < 0:
        observed = "pre-IH"
    else:
        observed = "ambiguous"
    expected = expected_ih_phase(n_params) if n_params is not None else None
    consistent = None if (expected is None or observed == "ambiguous") else observed == expected
    return IHPhase(delta_gamma=delta, delta_ci=ci, phase_observed=observed, phase_expected=expected,
                   consistent=consistent,
                   constants=(IH_THRESHOLD_PARAMS, IH_DELTA_PRE_MEAN, IH_DELTA_POST_MEAN, IH_DELTA_STD))
