"""Attention horizon d_horizon, NIAH length, susceptibility and critical exponents.

TAF §26.2, §26.5, §26.16, §33.4 (karlesmarin/tafagent ``python/taf_browser.py``:
``d_horizon``, ``l_niah_c``, ``chi_susceptibility``, ``critical_exponents_bundle``):

    d_horizon(θ, γ) = √2·θ·(1 − γ)/(1 + γ)        γ ∈ (0, 1)  ("Phase A")
    L_NIAH^c        = 2·d_horizon                  (empirical factor, constants.L_NIAH_FACTOR)
    χ               = 1/|γ − 1|                    γ ≠ 1
    ν_c = 1/(1−γ), β_c = γ − 1, η_c = γ − 1, α_C = 2 − 1/(1−γ),
    γ_susc = 1/(1−γ) + 2(1−γ)                     γ < 1

Identity: d_horizon(θ, γ_Padé(θ, T)) = T exactly (the horizon of the Padé
prediction is the context it was evaluated at).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from attnscope.errors import DomainError
from attnscope.theory import _validate as v
from attnscope.theory.constants import L_NIAH_FACTOR
from attnscope.theory.pade import SQRT2


def d_horizon(theta: float, gamma: float) -> float:
    """Attention horizon in tokens, √2·θ·(1 − γ)/(1 + γ).

    Parameters
    ----------
    theta : float
        RoPE base (> 0).
    gamma : float
        Decay exponent, in the open interval (0, 1) where the horizon is defined
        (the published tool returns None outside it).

    Raises
    ------
    DomainError
        If θ ≤ 0 or γ ∉ (0, 1).
    """
    th = v.positive("theta", theta)
    g = v.open_interval("gamma", gamma, 0.0, 1.0)
    return SQRT2 * th * (1.0 - g) / (1.0 + g)


def l_niah(theta: float, gamma: float) -> float:
    """Predicted needle-in-a-haystack 50 % length, L_NIAH^c = 2·d_horizon (tokens; exploratory factor)."""
    return L_NIAH_FACTOR.value * d_horizon(theta, gamma)


def susceptibility(gamma: float) -> float:
    """χ = 1/|γ − 1|; diverges at the Hagedorn point γ = 1 (raises DomainError there)."""
    g = v.real("gamma", gamma)
    if g == 1.0:
        raise DomainError("susceptibility diverges at gamma = 1", field="gamma", value=gamma)
    return 1.0 / abs(g - 1.0)


@dataclass(frozen=True)
class CriticalExponents:
    """Critical exponents of the TAF power-law model as functions of γ (γ < 1).

    Attributes
    ----------
    gamma : float
    nu : float
        Correlation-length exponent ν_c = 1/(1 − γ).
    beta : float
        Order-parameter exponent β_c = γ − 1.
    eta : float
        Anomalous dimension η_c = γ − 1 (the published correction of paper 1's η = 2γ).
    alpha : float
        Specific-heat exponent α_C = 2 − 1/(1 − γ).
    gamma_susc : float
        Susceptibility exponent 1/(1 − γ) + 2(1 − γ) (≥ 2√2, minimum at γ = 1 − 1/√2).
    rushbrooke : float
        α + 2β + γ_susc (= 2 identically; a consistency check).
    source : str
    """

    gamma: float
    nu: float
    beta: float
    eta: float
    alpha: float
    gamma_susc: float
    rushbrooke: float
    source: str = "karlesmarin/tafagent python/taf_browser.py §33.4 critical_exponents_bundle"

    def to_dict(self) -> dict:
        return asdict(self)


def critical_exponents(gamma: float) -> CriticalExponents:
    """Critical exponents at γ < 1 (they diverge at and beyond the Hagedorn point γ = 1).

    Raises
    ------
    DomainError
        If γ ≥ 1 or not finite.
    """
    g = v.real("gamma", gamma)
    if g >= 1.0:
        raise DomainError("critical exponents diverge for gamma >= 1 (Hagedorn point and beyond)",
                          field="gamma", value=gamma)
    nu = 1.0 / (1.0 - g)
    beta = g - 1.0
    alpha = 2.0 - nu
    gs = nu + 2.0 * (1.0 - g)
    return CriticalExponents(gamma=g, nu=nu, beta=beta, eta=g - 1.0, alpha=alpha, gamma_susc=gs,
                             rushbrooke=alpha + 2.0 * beta + gs)
