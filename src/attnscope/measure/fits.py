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
