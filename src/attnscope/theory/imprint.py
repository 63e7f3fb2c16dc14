"""Learned imprint: predicted γ on random-token input, γ_random = γ_Padé + ν·log10(P/P0).

TAF §28.1–28.2 (karlesmarin/tafagent ``python/taf_browser.py``
``gamma_random_predict``, ``imprint_purity``): ν = −1/(2π) (constants.NU_IMPRINT,
n = 22), P0 = 14M parameters (pythia-14m, constants.P0_IMPRINT), 95 % band
±0.18 (constants.IMPRINT_CI95).

Difference from the published code: it clamps P to ≥ 1e−3 M silently; here
P must be > 0 (DomainError otherwise). ``n_params`` is an absolute parameter
count (not millions).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from attnscope.theory import _validate as v
from attnscope.theory.constants import IMPRINT_CI95, NU_IMPRINT, P0_IMPRINT, Constant


def gamma_random_pred(gamma_pade: float, n_params: float) -> float:
    """Predicted γ on random tokens, γ_Padé + ν·log10(P / 14M).

    Parameters
    ----------
    gamma_pade : float
        γ_Padé(θ, T) of the model (finite).
    n_params : float
        Parameter count P (absolute, > 0; e.g. 7.0e7 for pythia-70m).
    """
    g = v.real("gamma_pade", gamma_pade)
    p = v.positive("n_params", n_params)
    return g + NU_IMPRINT.value * math.log10(p / P0_IMPRINT.value)


@dataclass(frozen=True)
class Imprint:
    """Imprint prediction, and purity if an observed γ_random is given.

    Attributes
    ----------
    gamma_pade, n_params : float
    shift : float
        ν·log10(P/P0).
    gamma_random_pred : float
    gamma_random_obs : float or None
    residual : float or None
        obs − pred.
    purity : str or None
        "clean" (|residual| < CI95), "over-imprinted" (residual < 0) or "under-imprinted".
    constants : tuple of Constant
        ν, P0 and the CI95 band, with provenance.
    """

    gamma_pade: float
    n_params: float
    shift: float
    gamma_random_pred: float
    gamma_random_obs: float | None
    residual: float | None
    purity: str | None
    constants: tuple[Constant, ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["constants"] = [c.to_dict() for c in self.constants]
        return d


def imprint(gamma_pade: float, n_params: float, gamma_random_obs: float | None = None) -> Imprint:
    """Imprint prediction with its constants; purity diagnostic (recipe X-21) if ``gamma_random_obs`` given."""
    pred = gamma_random_pred(gamma_pade, n_params)
    g = float(gamma_pade)
    shift = NU_IMPRINT.value * math.log10(float(n_params) / P0_IMPRINT.value)
    residual = purity = None
    obs = None
    if gamma_random_obs is not None:
        obs = v.real("gamma_random_obs", gamma_random_obs)
        residual = obs - pred
        if abs(residual) < IMPRINT_CI95.value:
            purity = "clean"
        else:
            purity = "over-imprinted" if residual < 0 else "under-imprinted"
    return Imprint(gamma_pade=g, n_params=float(n_params), shift=shift, gamma_random_pred=pred,
                   gamma_random_obs=obs, residual=residual, purity=purity,
                   constants=(NU_IMPRINT, P0_IMPRINT, IMPRINT_CI95))
