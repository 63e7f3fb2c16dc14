"""The one regime classification used everywhere in attnscope.

Boundaries (justification and the published alternatives: docs/theory.md §Regime):

==================  =====================  =========================================================
name                γ range                meaning
==================  =====================  =========================================================
non_decaying        γ ≤ 0                  A(d) does not decrease with distance (γ_Padé: T ≥ √2·θ)
phase_A             0 < γ < 0.95           long-range ("deconfined"); Z ~ N^{1−γ} grows with N
hagedorn_boundary   0.95 ≤ γ < 1           still Phase A, but within the panel's warning band
phase_B             γ ≥ 1                  local ("confined"/Hagedorn); Z → ζ(γ) stays bounded
==================  =====================  =========================================================

γ = 0 and γ = 1 are exact mathematical boundaries (sign of the decay; convergence
of Σ d^−γ as N → ∞). 0.95 is the one empirical edge (constants.HAGEDORN_WARNING_GAMMA).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from attnscope.theory import _validate as v
from attnscope.theory.constants import HAGEDORN_WARNING_GAMMA, Constant

REGIME_NAMES = ("non_decaying", "phase_A", "hagedorn_boundary", "phase_B")

_DESCRIPTIONS = {
    "non_decaying": "gamma <= 0: attention does not decay with distance; for RoPE, the context exceeds "
                    "sqrt(2)*theta. Bad operating point: lower the context or raise theta.",
    "phase_A": "0 < gamma < 0.95: long-range attention (Phase A); long-context retrieval within d_horizon.",
    "hagedorn_boundary": "0.95 <= gamma < 1: Phase A at the edge of the Hagedorn point; contexts beyond "
                         "T_train are risky (check recipe X-2).",
    "phase_B": "gamma >= 1: local attention (Phase B / Hagedorn); the attention mass stays within a bounded "
               "distance however long the context; long context needs RoPE base scaling.",
}


@dataclass(frozen=True)
class Regime:
    """Regime of a decay exponent.

    Attributes
    ----------
    name : {"non_decaying", "phase_A", "hagedorn_boundary", "phase_B"}
    gamma : float
    lower, upper : float or None
        The γ interval of this regime (``None`` = unbounded); lower bound inclusive
        except for phase_A (0 < γ), upper bound exclusive except for non_decaying (γ ≤ 0).
    long_range : bool
        True for phase_A and hagedorn_boundary (0 < γ < 1), where d_horizon is defined.
    description : str
    constants : tuple of Constant
    """

    name: str
    gamma: float
    lower: float | None
    upper: float | None
    long_range: bool
    description: str
    constants: tuple[Constant, ...] = (HAGEDORN_WARNING_GAMMA,)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["constants"] = [c.to_dict() for c in self.constants]
        return d

    def __str__(self) -> str:
        return self.name


def regime(gamma: float) -> Regime:
    """Classify γ into one of :data:`REGIME_NAMES` (raises DomainError if γ is not finite)."""
    g = v.real("gamma", gamma)
    edge = HAGEDORN_WARNING_GAMMA.value
    if g <= 0.0:
        name, lo, hi = "non_decaying", None, 0.0
    elif g < edge:
        name, lo, hi = "phase_A", 0.0, edge
    elif g < 1.0:
        name, lo, hi = "hagedorn_boundary", edge, 1.0
    else:
        name, lo, hi = "phase_B", 1.0, None
    return Regime(name=name, gamma=g, lower=lo, upper=hi, long_range=0.0 < g < 1.0,
                  description=_DESCRIPTIONS[name])
