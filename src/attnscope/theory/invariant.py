"""Compute–context invariant K = γ·ln(N²·D), with D = 20·N by default (Chinchilla).

TAF §29 (karlesmarin/tafagent ``python/taf_browser.py`` ``compute_invariant_K``,
recipe X-22): N is the parameter count, D the training tokens. Panel:
K ≈ 51.2 ± 16.8 (n = 22; constants.K_PANEL_MEAN / K_PANEL_STD); "in band"
means |z| ≤ 1. With the default D, K = γ·ln(20·N³).

Difference from the published code: when D is not given we say so
(``D_assumed=True`` and the Chinchilla constant is carried in the output).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from attnscope.theory import _validate as v
from attnscope.theory.constants import CHINCHILLA_TOKENS_PER_PARAM, K_PANEL_MEAN, K_PANEL_STD, Constant


def K_invariant(gamma: float, N: float, D_tokens: float | None = None) -> float:
    """K = γ·ln(N²·D).

    Parameters
    ----------
    gamma : float
        Measured (or predicted) decay exponent (finite).
    N : float
        Parameter count (absolute, > 0).
    D_tokens : float, optional
        Training tokens (> 0). If omitted, D = 20·N (Chinchilla), i.e. K = γ·ln(20·N³).
    """
    g = v.real("gamma", gamma)
    n = v.positive("N", N)
    if D_tokens is None:
        d = CHINCHILLA_TOKENS_PER_PARAM.value * n
    else:
        d = v.positive("D_tokens", D_tokens)
    # ln(N²·D) computed as a sum of logs: N²·D overflows nothing but stays exact in log space.
    return g * (2.0 * math.log(n) + math.log(d))


@dataclass(frozen=True)
class KInvariant:
    """K with its panel z-score (recipe X-22).

    Attributes
    ----------
    K : float
    gamma, N, D_tokens : float
    D_assumed : bool
        True if D = 20·N was assumed.
    z : float
        (K − panel mean)/panel std.
    in_band : bool
        |z| ≤ 1.
    interpretation : str
        "in-band", "high-K outlier" or "low-K outlier".
    constants : tuple of Constant
    """

    K: float
    gamma: float
    N: float
    D_tokens: float
    D_assumed: bool
    z: float
    in_band: bool
    interpretation: str
    constants: tuple[Constant, ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["constants"] = [c.to_dict() for c in self.constants]
        return d

    def __float__(self) -> float:
        return float(self.K)


def k_invariant_check(gamma: float, N: float, D_tokens: float | None = None) -> KInvariant:
    """K and its z-score against the published panel (exploratory band)."""
    K = K_invariant(gamma, N, D_tokens)
    assumed = D_tokens is None
    d = CHINCHILLA_TOKENS_PER_PARAM.value * float(N) if assumed else float(D_tokens)
    z = (K - K_PANEL_MEAN.value) / K_PANEL_STD.value
    inb = abs(z) <= 1.0
    interp = "in-band" if inb else ("high-K outlier" if z > 0 else "low-K outlier")
    consts = (K_PANEL_MEAN, K_PANEL_STD) + ((CHINCHILLA_TOKENS_PER_PARAM,) if assumed else ())
    return KInvariant(K=K, gamma=float(gamma), N=float(N), D_tokens=d, D_assumed=assumed, z=z,
                      in_band=inb, interpretation=interp, constants=consts)
