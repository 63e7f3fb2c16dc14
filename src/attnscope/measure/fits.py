"""Fits of the attention-decay curve A(d): pure numpy functions, no torch.

See PROTOCOL.md, section "Fits". The OLS fits are the published (compatibility)
method: ln A(d) = ln A0 - gamma ln d over d >= d_min, R^2 in log space; the
exponential fit is ln A = a - lambda d.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attnscope.errors import ProtocolError


@dataclass(frozen=True)
class LineFit:
    """Least-squares line y = intercept + slope * x with its R^2."""

    slope: float
    intercept: float
    R2: float
    n_points: int


def _ols(x: np.ndarray, y: np.ndarray) -> LineFit:
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else float("nan")
    return LineFit(float(slope), float(intercept), r2, int(len(x)))


def _select(distances, A, d_min: int) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(distances, dtype=float)
    a = np.asarray(A, dtype=float)
    if d.shape != a.shape or d.ndim != 1:
        raise ProtocolError("distances and A must be 1-D arrays of the same length", field="A", value=a.shape)
    keep = (d >= d_min) & np.isfinite(a) & (a > 0)
    if keep.sum() < 2:
        raise ProtocolError(f"need at least 2 positive points with d >= {d_min} to fit", field="distances", value=d.tolist())
    return d[keep], a[keep]


def fit_power_ols(distances, A, *, d_min: int = 30) -> LineFit:
    """OLS fit of ln A = ln A0 - gamma ln d on d >= d_min.

    Returns a LineFit whose ``slope`` is -gamma and ``intercept`` is ln A0 (log_A).
    Non-positive or non-finite A values are dropped (they have no logarithm).
    """
    d, a = _select(distances, A, d_min)
    return _ols(np.log(d), np.log(a))


def fit_exp_ols(distances, A, *, d_min: int = 30) -> LineFit:
    """OLS fit of ln A = a - lambda d on d >= d_min; ``slope`` is -lambda."""
    d, a = _select(distances, A, d_min)
    return _ols(d, np.log(a))


def uniform_null_taf_e4(distances) -> np.ndarray:
    """A(d) of perfectly uniform attention under the taf-e4 protocol: 1/(d + 50).

    The query sits at position d + 49 and sees d + 50 keys (PROTOCOL.md).
    """
    d = np.asarray(distances, dtype=float)
    return 1.0 / (d + 50.0)


@dataclass(frozen=True)
class BatchPowerFit:
    """Vectorised OLS power-law fits of many curves at once (leading shape ``S``).

    Attributes
    ----------
    gamma : ndarray of shape S
        Decay exponent (minus the log-log slope); NaN where fewer than 2 usable points.
    log_A : ndarray of shape S
        Intercept ln A0.
    R2 : ndarray of shape S
        R^2 in log space; NaN when ln A is constant over the points (a flat curve).
    n_points : ndarray of shape S, int
        Points used (d >= d_min, finite, A > 0).
    """

    gamma: np.ndarray
    log_A: np.ndarray
    R2: np.ndarray
    n_points: np.ndarray


def fit_power_ols_batch(distances, A, *, d_min: int = 30) -> BatchPowerFit:
    """OLS fit of ln A = ln A0 - gamma ln d for every curve in ``A`` (last axis = distance).

    The same estimator as :func:`fit_power_ols`, vectorised over leading axes
    (bootstrap replicates, layers, heads). Points with d < d_min, non-finite A or
    A <= 0 are dropped per curve.

    Parameters
    ----------
    distances : array_like of shape (n_d,)
        Query-key distances in tokens.
    A : array_like of shape (..., n_d)
        Mean attention probability at each distance.
    d_min : int
        Smallest distance used in the fit (tokens).
    """
    d = np.asarray(distances, dtype=float)
    a = np.asarray(A, dtype=float)
    if d.ndim != 1 or a.shape[-1:] != d.shape:
        raise ProtocolError("A must have the distances on its last axis", field="A", value=a.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = ((d >= d_min) & np.isfinite(a) & (a > 0)).astype(float)
        y = np.where(w > 0, np.log(np.where(a > 0, a, 1.0)), 0.0)
        x = np.log(np.maximum(d, 1e-300))
        n = w.sum(-1)
        mx = (w * x).sum(-1) / n
        my = (w * y).sum(-1) / n
        dx = (x - mx[..., None]) * w
        dy = (y - my[..., None]) * w
        sxx = (dx * dx).sum(-1)
        sxy = (dx * dy).sum(-1)
        syy = (dy * dy).sum(-1)
        slope = sxy / sxx
        intercept = my - slope * mx
        ss_res = syy - slope * sxy
        # a flat curve has no variance to explain: R^2 is undefined (NaN), not 1
        r2 = np.where(syy > 1e-24 * np.maximum(1.0, my * my), 1.0 - ss_res / syy, np.nan)
    bad = n < 2
    gamma = np.where(bad, np.nan, -slope)
    return BatchPowerFit(gamma=gamma, log_A=np.where(bad, np.nan, intercept),
                         R2=np.where(bad, np.nan, r2), n_points=n.astype(int))
