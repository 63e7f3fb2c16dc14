"""Uniform-attention null baselines and the verdict. Pure numpy.

PROTOCOL.md: the null is always computed for the exact grid and query set
used. Under uniform causal attention, query i gives every visible key the
probability 1/(i + 1), whatever the distance; the protocol's averaging over
queries then turns that into a curve A_uniform(d), and the same OLS fit gives
``gamma_uniform``. ``excess = gamma - gamma_uniform``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from attnscope.errors import ProtocolError
from attnscope.measure.fits import uniform_null_taf_e4

VERDICT_SAME = "indistinguishable from uniform attention"
VERDICT_FASTER = "decays faster than uniform"
VERDICT_SLOWER = "decays slower than uniform"
COVER_TOL = 1e-6  # absolute slack on gamma (float32 rows give ~1e-7 noise on flat curves)


def uniform_curve_rows(query_positions: np.ndarray, distances: Sequence[int], *, sink: int = 0,
                       window: int | None = None) -> np.ndarray:
    """A(d) of uniform attention under the rows protocol for one prompt's queries.

    Parameters
    ----------
    query_positions : array_like of int, shape (Q,)
        Absolute query positions i (tokens, 0-based).
    distances : sequence of int, shape (n_d,)
        Distances d (tokens).
    sink : int
        Absolute position of the sink key; a (query, d) pair whose key is the sink
        is excluded, as in the measurement.
    window : int or None
        Sliding window W of the layer (tokens): query i sees the keys with
        i - j < W, i.e. min(i + 1, W) keys, and p = 0 at d >= W. None = full causal.

    Returns
    -------
    ndarray of shape (n_d,)
        Mean of 1/(i + 1) over the queries whose key i - d exists and is not the sink;
        NaN where no query contributes.
    """
    i = np.asarray(query_positions, dtype=float)[:, None]
    d = np.asarray(distances, dtype=float)[None, :]
    key = i - d
    ok = (key >= 0) & (key != sink)
    n = ok.sum(0)
    visible = i + 1.0 if window is None else np.minimum(i + 1.0, float(window))
    seen = ok & (True if window is None else d < window)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (seen / visible).sum(0) / n, np.nan)


def uniform_curve_taf_e4(distances: Sequence[int], *, window: int | None = None) -> np.ndarray:
    """A(d) = 1/(d + 50) of uniform attention under the taf-e4 protocol (windowed: 1/min(d+50, W), 0 at d >= W)."""
    if window is None:
        return uniform_null_taf_e4(distances)
    d = np.asarray(distances, dtype=float)
    return np.where(d < window, 1.0 / np.minimum(d + 50.0, float(window)), 0.0)


def uniform_window_stats(d_min: int, d_max: int) -> tuple[float, float]:
    """<ln d> and <d> of a uniform normalised row over [d_min, d_max] (the MLE null: gamma = 0)."""
    d = np.arange(d_min, d_max + 1, dtype=float)
    return float(np.log(d).mean()), float(d.mean())


def verdict(gamma_lo: float | None, gamma_hi: float | None, gamma_uniform: float, *, tol: float = COVER_TOL) -> str:
    """The null verdict from the gamma CI.

    "indistinguishable from uniform attention" when [lo - tol, hi + tol] covers
    ``gamma_uniform``; otherwise faster (CI above) or slower (CI below).
    """
    if gamma_lo is None or gamma_hi is None or not (np.isfinite(gamma_lo) and np.isfinite(gamma_hi)):
        raise ProtocolError("the verdict needs a finite CI on gamma", field="gamma_ci95", value=(gamma_lo, gamma_hi))
    if gamma_lo - tol <= gamma_uniform <= gamma_hi + tol:
        return VERDICT_SAME
    return VERDICT_FASTER if gamma_lo > gamma_uniform else VERDICT_SLOWER
