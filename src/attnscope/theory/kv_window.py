"""KV window D_f(γ, N, f): the smallest D with Σ_{d≤D} d^−γ ≥ f·Σ_{d≤N} d^−γ, exactly.

TAF §26.7 (karlesmarin/tafagent ``python/taf_browser.py`` ``df_window``;
``cli/diagnose_model.py`` ``D_f_closed``). The published tool either uses the
continuum formula [(1−f) + f·N^{1−γ}]^{1/(1−γ)} (off by 5–50 % for γ ≥ 1, and
refused outside γ ∈ [0.65, 0.85]) or an O(N) Python loop (0.27 s at N = 10^6).

Here: bisection over D ∈ [1, N] (O(log N) steps) on the generalized harmonic
number H(D, γ) = Σ_{d≤D} d^−γ, each evaluated in O(1) by
:func:`attnscope.theory._sums.power_log_sum` (exact head + Euler–Maclaurin,
continuous through γ = 1). The test is written in its well-conditioned form:

* f ≥ 1/2: compare the *tail* Σ_{d=D+1}^{N} d^−γ ≤ (1 − f)·H(N, γ)  (1 − f is exact in floating point);
* f < 1/2: compare the *head* H(D, γ) ≥ f·H(N, γ).

so the decision never depends on the difference of two nearly equal numbers.
If the final boundary is closer than 1e−12·H(N) to a tie (so rounding could
flip it) and N ≤ 10^7, the candidate integers are re-checked with correctly
rounded sums of the individual terms (``math.fsum``) compared as exact
rationals against f (so f = 0.9, which is 0.9000000000000000222 in binary,
gives D_0.9(γ=0, N=1000) = 901, the exact answer for that f).
"""
from __future__ import annotations

import math
from fractions import Fraction

from attnscope.theory import _validate as v
from attnscope.theory._sums import power_log_sum

GAMMA_MIN = -4.0  # Euler–Maclaurin accuracy guaranteed for γ ≥ −4 (see _sums).
_TIE_REL = 1e-12
_FSUM_MAX_N = 10_000_000


def harmonic(D: int, gamma: float) -> float:
    """Generalized harmonic number H(D, γ) = Σ_{d=1}^{D} d^−γ (exact to a few ulp; H(0, γ) = 0).

    Equals ζ(γ) − ζ(γ, D+1) for γ ≠ 1 and ψ(D+1) + γ_E at γ = 1.

    Raises
    ------
    DomainError
        If D is not an integer ≥ 0 or γ is not finite or γ < −4.
    """
    n = v.integer_ge("D", D, 0)
    g = _gamma(gamma)
    return power_log_sum(g, 0, 1, n)


def _gamma(gamma) -> float:
    g = v.real("gamma", gamma)
    if g < GAMMA_MIN:
        from attnscope.errors import DomainError

        raise DomainError(f"must be >= {GAMMA_MIN:g} (attention weight d^-gamma growing faster than "
                          "d^4 is outside this formula's validated range)", field="gamma", value=gamma)
    return g


def kv_window(gamma: float, N: int, f: float = 0.9) -> int:
    """Exact KV window D_f: the smallest D ∈ [1, N] with H(D, γ) ≥ f·H(N, γ).

    Parameters
    ----------
    gamma : float
        Decay exponent γ of the attention weights A(d) ∝ d^−γ (finite, ≥ −4).
        γ = 1 and γ < 1 are handled exactly, with no special case.
    N : int
        Number of key positions (distances d = 1..N), ≥ 1. Up to ~10^15.
    f : float, default 0.9
        Fraction of the total attention mass to keep, in (0, 1].

    Returns
    -------
    int
        D_f in [1, N]. f = 1 gives N.

    Raises
    ------
    DomainError
        If γ, N or f is outside its domain.

    Notes
    -----
    Cost is O(log N) evaluations of an O(1) formula (~0.3 ms at N = 10^7; see
    ``benchmarks/bench_theory.py``). Reference values (TAF paper Table §7.1):
    D_0.9(0.748, 2000) = 1392, D_0.9(1.0, 2000) = 883, D_0.9(1.5, 2000) = 44.
    """
    g = _gamma(gamma)
    n = v.integer_ge("N", N, 1)
    frac = v.real("f", f)
    if not 0.0 < frac <= 1.0:
        from attnscope.errors import DomainError

        raise DomainError("must lie in (0, 1]", field="f", value=f)
    if frac == 1.0 or n == 1:
        return n
    total = power_log_sum(g, 0, 1, n)
    use_tail = frac >= 0.5
    budget = (1.0 - frac) * total if use_tail else frac * total

    def margin(D: int) -> float:
        """≥ 0 iff D satisfies the condition (signed distance to the tie)."""
        if use_tail:
            return budget - power_log_sum(g, 0, D + 1, n)
        return power_log_sum(g, 0, 1, D) - budget

    lo, hi = 0, n  # invariant: condition false at lo (or lo = 0), true at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if margin(mid) >= 0.0:
            hi = mid
        else:
            lo = mid
    # Guard against a near tie at the boundary: re-check with correctly rounded sums.
    if n <= _FSUM_MAX_N:
        m_hi = margin(hi)
        m_lo = margin(lo) if lo >= 1 else -math.inf
        if min(abs(m_hi), abs(m_lo)) < _TIE_REL * total:
            hi = _refine_fsum(g, n, frac, lo, hi)
    return hi


def _refine_fsum(g: float, n: int, frac: float, lo: int, hi: int) -> int:
    """Decide the boundary between lo and hi with correctly rounded sums of the float terms."""
    terms = [d ** (-g) for d in range(1, n + 1)]
    # Compare as exact rationals so the product f·total is not rounded.
    total = Fraction(math.fsum(terms))
    fr = Fraction(frac)

    def ok(D: int) -> bool:
        if frac >= 0.5:
            return Fraction(math.fsum(terms[D:])) <= (1 - fr) * total
        return Fraction(math.fsum(terms[:D])) >= fr * total

    # The bisection answer is off by at most one in either direction at a near tie.
    for D in range(max(1, lo - 1), min(n, hi + 1) + 1):
        if ok(D):
            return D
    return n
