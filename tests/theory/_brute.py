"""Brute-force references (numpy + math.fsum) for the theory tests."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

EPS = np.finfo(np.float64).eps


def brute_kv_window(gamma: float, N: int, f: float) -> int:
    """Smallest D with sum_{d<=D} d^-g >= f * sum_{d<=N} d^-g, by cumulative sums.

    Well-conditioned form: for f >= 1/2 compare the tail sum_{d>D} <= (1-f)*total (tails
    accumulated from the smallest term up, a reversed cumsum), else the head cumsum >= f*total.
    If either neighbouring margin is within the cumsum's rounding bound, the decision is
    redone with correctly rounded sums (math.fsum) of the individual terms.
    """
    w = np.arange(1, N + 1, dtype=np.float64) ** (-gamma)
    total = math.fsum(w.tolist())
    if f >= 0.5:
        # tail[D] = sum_{d=D+1}^{N} w_d for D = 0..N (tail[N] = 0), accumulated small-to-large.
        tail = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])
        budget = (1.0 - f) * total
        ok_arr = tail <= budget  # monotone: False...False True...True over D = 0..N
        D = int(np.argmax(ok_arr))
        scale = budget
        m_hi = budget - tail[D]
        m_lo = tail[D - 1] - budget if D >= 1 else math.inf
    else:
        head = np.concatenate([[0.0], np.cumsum(w)])
        budget = f * total
        D = int(np.searchsorted(head, budget, side="left"))
        scale = total
        m_hi = head[D] - budget
        m_lo = budget - head[D - 1] if D >= 1 else math.inf
    D = max(D, 1)
    tol = 4.0 * N * EPS * scale
    if m_hi > tol and m_lo > tol:
        return D
    terms = w.tolist()
    ftot, fr = Fraction(total), Fraction(f)

    def ok(k: int) -> bool:
        if f >= 0.5:
            return Fraction(math.fsum(terms[k:])) <= (1 - fr) * ftot
        return Fraction(math.fsum(terms[:k])) >= fr * ftot

    for k in range(max(1, D - 3), min(N, D + 3) + 1):
        if ok(k):
            return k
    return N


def brute_thermo(gamma: float, N: int) -> dict:
    d = np.arange(1, N + 1, dtype=np.float64)
    ld = np.log(d)
    w = d ** (-gamma)
    Z = float(np.sum(w))  # pairwise summation
    p = w / Z
    U = float(np.sum(p * ld))
    var = float(np.sum(p * (ld - U) ** 2))  # centred two-pass variance
    S_shannon = float(-np.sum(p[p > 0] * np.log(p[p > 0])))
    return {"Z": Z, "U": U, "S": math.log(Z) + gamma * U, "S_shannon": S_shannon,
            "F": (-math.log(Z) / gamma) if gamma != 0 else None, "C_V": gamma * gamma * var, "var": var}


def published_df_loop(gamma: float, N: int, f: float = 0.9) -> int:
    """The published O(N) Python loop (tafagent cli/diagnose_model.py D_f_closed, same logic)."""
    weights = [d ** (-gamma) for d in range(1, N + 1)]
    total = sum(weights)
    target = f * total
    cum = 0.0
    for d, w in enumerate(weights, start=1):
        cum += w
        if cum >= target:
            return d
    return N
