"""γ_Padé(θ, T) and its exact inverse θ_design(γ*, T).

TAF §26.1 / §26.3 (karlesmarin/tafagent ``python/taf_browser.py``; paper
"Predicting How Transformers Attend", Marin 2026, §3.3):

    γ_Padé(θ, T) = (2θ − √2·T) / (2θ + √2·T)
    θ_design(γ*, T) = √2·T·(1 + γ*) / (2·(1 − γ*))

γ_Padé depends on θ and T only through the ratio θ/T; it maps θ/T ∈ (0, ∞)
one-to-one onto γ ∈ (−1, 1), so the inverse is exact on that interval.
"""
from __future__ import annotations

import math

from attnscope.theory import _validate as v

SQRT2 = math.sqrt(2.0)


def gamma_pade(theta: float, T: float) -> float:
    """Padé prediction of the attention-decay exponent.

    Parameters
    ----------
    theta : float
        RoPE base θ (> 0, dimensionless).
    T : float
        Context length in tokens at which γ is evaluated (> 0): the training
        context, or the context the user asks about.

    Returns
    -------
    float
        γ_Padé in (−1, 1). γ = 0 at T = √2·θ; negative beyond.

    Raises
    ------
    DomainError
        If θ ≤ 0 or T ≤ 0 (or not finite).
    """
    th = v.positive("theta", theta)
    t = v.positive("T", T)
    # Divide through by 2θ so huge θ/T ratios stay accurate: γ = (1 − r)/(1 + r), r = T/(√2·θ).
    r = t / (SQRT2 * th)
    return (1.0 - r) / (1.0 + r)


def theta_design(gamma: float, T: float) -> float:
    """RoPE base θ that puts γ_Padé at ``gamma`` for context ``T`` (exact inverse of :func:`gamma_pade`).

    Parameters
    ----------
    gamma : float
        Target exponent γ*, in the open interval (−1, 1).
    T : float
        Context length in tokens (> 0).

    Returns
    -------
    float
        θ = √2·T·(1 + γ*) / (2·(1 − γ*)), > 0.

    Raises
    ------
    DomainError
        If γ* ∉ (−1, 1) or T ≤ 0.
    """
    g = v.open_interval("gamma", gamma, -1.0, 1.0)
    t = v.positive("T", T)
    return SQRT2 * t * (1.0 + g) / (2.0 * (1.0 - g))
