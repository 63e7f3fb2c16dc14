"""Maximum-likelihood decay fits on normalised attention rows: pure numpy, no torch.

PROTOCOL.md, "Fits / MLE". Each attention row restricted to the distances
d in [d_min, d_max] and renormalised is a distribution p(d). We fit

- a discrete truncated power law  q_gamma(d) = d^-gamma / Z(gamma),
  Z(gamma) = sum_{d=d_min}^{d_max} d^-gamma, and
- a truncated geometric law       q_lambda(d) = e^{-lambda d} / G(lambda),

by minimising the cross-entropy H(p, q) = -sum_d p(d) log q(d). Both are
exponential families, so H depends on p only through a sufficient statistic:

    H(p, q_gamma)  = gamma * <ln d>_p + ln Z(gamma)
    H(p, q_lambda) = lambda * <d>_p + ln G(lambda)

and the minimiser matches the moment: <ln d>_q = <ln d>_p (resp. <d>). The
cross-entropy averaged over many rows is the cross-entropy of the averaged
statistics, so a head is fitted from the mean of its rows' statistics (rows are
fitted jointly per head; heads are pooled afterwards: a mixture of exponentials
across heads can look like a power law). The log-likelihood ratio per row is
H_geom - H_pow (nats): > 0 favours the power law.

Uniform rows (p constant over the window) give gamma = 0 and lambda = 0 exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.interpolate import PchipInterpolator

from attnscope.errors import ProtocolError

GAMMA_BOUNDS = (-4.0, 12.0)  # search range of the power-law exponent (dimensionless)
_N_TABLE = 1601  # gamma grid for the moment table (step 0.01 on GAMMA_BOUNDS)


@dataclass(frozen=True)
class MLEFitResult:
    """Per-unit MLE fits (leading shape ``S`` of the inputs).

    Attributes
    ----------
    gamma : ndarray of shape S
        Truncated power-law exponent; clipped to GAMMA_BOUNDS (see ``at_bound``).
    lam : ndarray of shape S
        Geometric rate lambda (1/tokens).
    ce_pow, ce_geom : ndarray of shape S
        Minimal cross-entropies (nats per row).
    llr : ndarray of shape S
        ce_geom - ce_pow (nats per row); > 0 favours the power law.
    at_bound : ndarray of shape S, bool
        The power-law moment fell outside the range reachable in GAMMA_BOUNDS.
    """

    gamma: np.ndarray
    lam: np.ndarray
    ce_pow: np.ndarray
    ce_geom: np.ndarray
    llr: np.ndarray
    at_bound: np.ndarray


def window_grid(d_min: int, d_max: int) -> np.ndarray:
    """Integer distances d_min..d_max (tokens) of the MLE window, validated."""
    if not (isinstance(d_min, (int, np.integer)) and isinstance(d_max, (int, np.integer))):
        raise ProtocolError("d_min and d_max must be integers", field="d_min", value=(d_min, d_max))
    if d_min < 1 or d_max <= d_min:
        raise ProtocolError("the MLE window needs 1 <= d_min < d_max", field="d_max", value=(d_min, d_max))
    return np.arange(d_min, d_max + 1, dtype=float)


@lru_cache(maxsize=16)
def _power_table(d_min: int, d_max: int):
    """ln Z(gamma) and <ln d>_q(gamma) on a gamma grid, as monotone interpolants."""
    logd = np.log(window_grid(d_min, d_max))
    gammas = np.linspace(*GAMMA_BOUNDS, _N_TABLE)
    log_z = np.empty_like(gammas)
    mean_log = np.empty_like(gammas)
    for k in range(0, len(gammas), 64):  # chunks bound the memory at 64 * n_grid floats
        g = gammas[k:k + 64, None]
        s = -g * logd[None, :]
        smax = s.max(axis=1, keepdims=True)
        w = np.exp(s - smax)
        z = w.sum(axis=1)
        log_z[k:k + 64] = np.log(z) + smax[:, 0]
        mean_log[k:k + 64] = (w * logd).sum(axis=1) / z
    # <ln d>_q decreases strictly in gamma; interpolate gamma as a function of it
    order = np.argsort(mean_log)
    inverse = PchipInterpolator(mean_log[order], gammas[order], extrapolate=False)
    return PchipInterpolator(gammas, log_z), inverse, float(mean_log.min()), float(mean_log.max())


def _log_geom_sum(lam: np.ndarray, n: int) -> np.ndarray:
    """ln sum_{k=0}^{n-1} e^{-lam k}, stable for any sign of lam."""
    lam = np.asarray(lam, dtype=float)
    a = np.abs(lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        core = np.where(a > 0, np.log(np.expm1(-a * n) / np.expm1(-a)), np.log(n))
    return np.where(lam < 0, a * (n - 1) + core, core)


def _geom_mean_offset(lam: np.ndarray, n: int) -> np.ndarray:
    """<k> under q(k) ∝ e^{-lam k}, k = 0..n-1 (stable; series near lam = 0)."""
    lam = np.asarray(lam, dtype=float)
    small = np.abs(lam) * n < 1e-4
    safe = np.where(small, 1.0, lam)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        exact = 1.0 / np.expm1(safe) - n / np.expm1(safe * n)
    series = (n - 1) / 2.0 - lam * (n * n - 1) / 12.0
    return np.where(small, series, exact)


def fit_geometric(mean_d, d_min: int, d_max: int) -> tuple[np.ndarray, np.ndarray]:
    """MLE rate of the truncated geometric law from the row statistic <d> (tokens).

    Returns ``(lam, ce)``: the rate (1/tokens) and the minimal cross-entropy (nats).
    """
    n = d_max - d_min + 1
    target = np.clip(np.asarray(mean_d, dtype=float) - d_min, 1e-9, n - 1 - 1e-9)
    lo = np.full(target.shape, -50.0)
    hi = -lo
    # bisection: <k>(lam) decreases strictly in lam; 64 halvings of a width-100 range reach ~5e-18
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        too_big = _geom_mean_offset(mid, n) > target
        lo = np.where(too_big, mid, lo)
        hi = np.where(too_big, hi, mid)
    lam = np.where(np.isfinite(np.asarray(mean_d, dtype=float)), 0.5 * (lo + hi), np.nan)
    ce = lam * (np.asarray(mean_d, dtype=float) - d_min) + _log_geom_sum(lam, n)
    return lam, ce


def fit_power_mle(mean_log_d, d_min: int, d_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MLE exponent of the truncated power law from the row statistic <ln d>.

    Returns ``(gamma, ce, at_bound)``.
    """
    log_z, inverse, lo, hi = _power_table(int(d_min), int(d_max))
    m = np.asarray(mean_log_d, dtype=float)
    at_bound = (m <= lo) | (m >= hi)
    gamma = inverse(np.clip(m, lo, hi))
    gamma = np.where(m <= lo, GAMMA_BOUNDS[1], np.where(m >= hi, GAMMA_BOUNDS[0], gamma))
    ce = gamma * m + log_z(gamma)
    return np.asarray(gamma, dtype=float), np.asarray(ce, dtype=float), at_bound


def fit_rows_mle(mean_log_d, mean_d, *, d_min: int, d_max: int) -> MLEFitResult:
    """Fit both laws to rows summarised by their window statistics.

    Parameters
    ----------
    mean_log_d : array_like of shape S
        <ln d> of the normalised row(s) over d in [d_min, d_max] (ln tokens);
        for a unit with many rows, the mean over its rows.
    mean_d : array_like of shape S
        <d> of the same normalised row(s) (tokens).
    d_min, d_max : int
        The window (tokens), inclusive.
    """
    window_grid(d_min, d_max)
    gamma, ce_pow, at_bound = fit_power_mle(mean_log_d, d_min, d_max)
    lam, ce_geom = fit_geometric(mean_d, d_min, d_max)
    return MLEFitResult(gamma=gamma, lam=lam, ce_pow=ce_pow, ce_geom=ce_geom,
                        llr=ce_geom - ce_pow, at_bound=at_bound)


def row_statistics(p, d_min: int, d_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window statistics of rows given on the full grid d = d_min..d_max (last axis).

    Returns ``(mass, mean_log_d, mean_d)``; ``mass`` is the un-normalised window mass.
    """
    grid = window_grid(d_min, d_max)
    p = np.asarray(p, dtype=float)
    if p.shape[-1] != len(grid):
        raise ProtocolError("rows must cover every distance of the window", field="p", value=p.shape)
    mass = p.sum(-1)
    return mass, (p * np.log(grid)).sum(-1) / mass, (p * grid).sum(-1) / mass
