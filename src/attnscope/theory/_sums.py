"""Exact partial sums S_k(a, b; γ) = Σ_{d=a}^{b} d^−γ·(ln d)^k in O(1), pure ``math``.

Method: the first ``M_EXACT`` terms are summed directly (``math.fsum``); the
rest by the Euler–Maclaurin formula with ``P`` Bernoulli corrections,

    Σ_{d=a}^{b} f(d) = ∫_a^b f + (f(a) + f(b))/2 + Σ_{j=1}^{P} B_{2j}/(2j)!·(f^{(2j−1)}(b) − f^{(2j−1)}(a)) + R,

with a ≥ M_EXACT + 1 = 33, so |R| ≲ 2·|f^{(2P−1)}(a)|/(2π)^{2P} < 1e−17 relative for
γ ≥ −4 and k ≤ 2 (checked against brute force in tests/theory).

The integral is written without cancellation at γ = 1: with s = 1 − γ,
u = ln x, A = ln a, L = ln(b/a),

    ∫_a^b x^−γ (ln x)^k dx = e^{sA} Σ_j C(k, j)·A^{k−j}·L^{j+1}·φ_j(sL),
    φ_j(z) = ∫_0^1 v^j e^{zv} dv          (entire in z; φ_j(0) = 1/(j+1)),

evaluated by its Taylor series for |z| ≤ 2 and by the stable recurrence
φ_0 = expm1(z)/z, φ_j = (e^z − j·φ_{j−1})/z otherwise. All terms are ≥ 0
(A ≥ 0), so the result is accurate to a few ulp and continuous (indeed
analytic) in γ across γ = 1 — no special case, no ζ(γ) pole.

Why not ζ(γ) − ζ(γ, D+1) (Hurwitz)? Near γ = 1 both terms ≈ 1/(γ−1) and their
difference ≈ ln D loses ~|log10|γ−1|| digits, and a tail Σ_{D+1}^{N} computed as
a difference cancels when D ≈ N. The Hurwitz form is used in the tests as an
independent oracle where it is well conditioned.
"""
from __future__ import annotations

import math
from functools import lru_cache

M_EXACT = 32
# Bernoulli numbers B_2, B_4, ..., B_12 and (2j)!.
_BERN = (1.0 / 6.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 5.0 / 66.0, -691.0 / 2730.0)
_FACT2J = tuple(float(math.factorial(2 * j)) for j in range(1, len(_BERN) + 1))
_P = len(_BERN)


def _phi(z: float, jmax: int) -> list[float]:
    """φ_j(z) = ∫_0^1 v^j e^{zv} dv for j = 0..jmax."""
    if abs(z) <= 2.0:
        out = []
        for j in range(jmax + 1):
            term = 1.0  # z^n / n!
            total = 1.0 / (j + 1)
            n = 0
            while True:
                n += 1
                term *= z / n
                add = term / (n + j + 1)
                total += add
                if abs(add) <= 1e-18 * abs(total):
                    break
            out.append(total)
        return out
    ez = math.exp(z) if z < 700.0 else math.inf
    out = [math.expm1(z) / z]
    for j in range(1, jmax + 1):
        out.append((ez - j * out[-1]) / z)
    return out


@lru_cache(maxsize=256)
def _derivative_polys(gamma: float, k: int) -> tuple[tuple[float, ...], ...]:
    """Polynomials Q_n (coefficients in u = ln x) with f^{(n)}(x) = x^{−γ−n}·Q_n(ln x), n = 0..2P−1."""
    c = -gamma
    poly = [0.0] * k + [1.0]  # (ln x)^k
    out = [tuple(poly)]
    for n in range(1, 2 * _P):
        # d/dx [x^{c'} Q(u)] = x^{c'−1} (c'·Q(u) + Q'(u)),  c' = c − (n − 1)
        cp = c - (n - 1)
        new = [cp * q for q in poly]
        for i in range(1, len(poly)):
            new[i - 1] += i * poly[i]
        poly = new
        out.append(tuple(poly))
    return tuple(out)


def _poly(coeffs: tuple[float, ...], u: float) -> float:
    acc = 0.0
    for q in reversed(coeffs):
        acc = acc * u + q
    return acc


@lru_cache(maxsize=256)
def _exact_terms(gamma: float, k: int) -> tuple[float, ...]:
    """d^−γ (ln d)^k for d = 1..M_EXACT."""
    return tuple((d ** (-gamma)) * (math.log(d) ** k) for d in range(1, M_EXACT + 1))


def _f_at(gamma: float, k: int, x: int, order: int) -> float:
    """f^{(order)}(x) for f(x) = x^−γ (ln x)^k."""
    u = math.log(x)
    return math.exp((-gamma - order) * u) * _poly(_derivative_polys(gamma, k)[order], u)


def _em_boundary(gamma: float, k: int, x: int) -> float:
    """Σ_j B_{2j}/(2j)!·f^{(2j−1)}(x)."""
    total = 0.0
    for j in range(_P):
        total += _BERN[j] / _FACT2J[j] * _f_at(gamma, k, x, 2 * j + 1)
    return total


def _integral(gamma: float, k: int, a: int, b: int) -> float:
    """∫_a^b x^−γ (ln x)^k dx for 1 ≤ a ≤ b (see module docstring)."""
    if b == a:
        return 0.0
    s = 1.0 - gamma
    A = math.log(a)
    L = math.log1p((b - a) / a)
    phis = _phi(s * L, k)
    acc = 0.0
    for j in range(k + 1):
        acc += math.comb(k, j) * (A ** (k - j)) * (L ** (j + 1)) * phis[j]
    return math.exp(s * A) * acc


def power_log_sum(gamma: float, k: int, a: int, b: int) -> float:
    """Σ_{d=a}^{b} d^−γ (ln d)^k for integers 1 ≤ a, b ≥ a − 1 (empty sum = 0); k ∈ {0, 1, 2}.

    Inputs are trusted (validated by the public callers).
    """
    if b < a:
        return 0.0
    parts = []
    if a <= M_EXACT:
        hi = min(b, M_EXACT)
        parts.append(math.fsum(_exact_terms(gamma, k)[a - 1:hi]))
        a = M_EXACT + 1
        if b < a:
            return parts[0]
    # Euler–Maclaurin on [a, b], a ≥ M_EXACT + 1.
    fa = _f_at(gamma, k, a, 0)
    fb = _f_at(gamma, k, b, 0)
    parts.append(_integral(gamma, k, a, b))
    parts.append(0.5 * (fa + fb))
    parts.append(_em_boundary(gamma, k, b))
    parts.append(-_em_boundary(gamma, k, a))
    return math.fsum(parts)
