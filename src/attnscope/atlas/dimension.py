"""Intrinsic-dimension estimators: pure numpy/scipy functions on point clouds.

All take ``X`` : ndarray of shape (n_points, n_dims). Exact duplicate points are
removed first (their nearest-neighbour distance is 0, which makes ratio-based
estimators undefined); the number removed is reported. Nearest neighbours come
from ``scipy.spatial.cKDTree``: no O(N^2) distance matrix.

References
----------
Facco, d'Errico, Rodriguez & Laio (2017), "Estimating the intrinsic dimension of
datasets by a minimal neighborhood information", Sci. Rep. 7:12140, eqs. (1)-(3).
Levina & Bickel (2004), "Maximum likelihood estimation of intrinsic dimension",
NIPS 17, eq. (8); averaged over points as in MacKay & Ghahramani (2005).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attnscope.errors import ProtocolError

MIN_POINTS = 20  # below this the neighbour statistics are meaningless


@dataclass(frozen=True)
class TwoNNResult:
    """TwoNN estimates: ``d_lsq`` (Facco et al.'s fit through the origin) and ``d_mle``."""

    d_lsq: float
    d_mle: float
    n_points: int
    n_duplicates: int
    discard_fraction: float


@dataclass(frozen=True)
class LevinaBickelResult:
    d: float
    k1: int
    k2: int
    n_points: int
    n_duplicates: int


def neighbour_distances(X, k: int, *, min_points: int = MIN_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Distances and indices of the k nearest neighbours of every distinct point (itself excluded).

    Returns ``(dist [n, k], idx [n, k], keep [n], n_duplicates)`` where ``keep`` indexes the
    distinct points in the original array (first occurrence).
    """
    from scipy.spatial import cKDTree

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ProtocolError("expected an array of shape (n_points, n_dims)", field="X.shape", value=X.shape)
    _, keep = np.unique(X, axis=0, return_index=True)
    keep = np.sort(keep)
    if len(keep) < max(min_points, k + 1):
        raise ProtocolError(f"too few distinct points for the estimator (need >= {max(min_points, k + 1)})",
                            field="n_points", value=len(keep))
    Xu = X[keep]
    dist, idx = cKDTree(Xu).query(Xu, k=k + 1)  # column 0 is the point itself
    return dist[:, 1:], idx[:, 1:], keep, len(X) - len(keep)


def twonn_from_distances(r1, r2, *, discard_fraction: float = 0.1, n_duplicates: int = 0) -> TwoNNResult:
    """TwoNN from each point's first and second nearest-neighbour distances (see :func:`twonn`)."""
    if not 0.0 <= discard_fraction < 1.0:
        raise ProtocolError("must be in [0, 1)", field="discard_fraction", value=discard_fraction)
    mu = np.sort(np.asarray(r2, dtype=np.float64) / np.asarray(r1, dtype=np.float64))
    n = len(mu)
    log_mu = np.log(mu)
    d_mle = (n - 1) / float(np.sum(log_mu))
    F = np.arange(1, n + 1) / n
    keep = int(np.floor(n * (1.0 - discard_fraction)))
    keep = min(keep, n - 1)  # F = 1 at the last point: -log(0) is infinite
    x, y = log_mu[:keep], -np.log1p(-F[:keep])
    d_lsq = float(np.dot(x, y) / np.dot(x, x))
    return TwoNNResult(d_lsq=d_lsq, d_mle=float(d_mle), n_points=n, n_duplicates=n_duplicates,
                       discard_fraction=discard_fraction)


def twonn(X, *, discard_fraction: float = 0.1) -> TwoNNResult:
    """TwoNN intrinsic dimension (Facco et al. 2017).

    mu_i = r2/r1 for each point. ``d_lsq``: least-squares slope through the origin
    of -log(1 - F(mu)) against log(mu), with F the empirical CDF F(mu_(i)) = i/n,
    on the lowest ``1 - discard_fraction`` of the sorted mu (Facco et al. eq. 3).
    ``d_mle``: the maximum-likelihood estimate (n - 1) / sum(log mu) on all points.
    """
    dist, _, _, n_dup = neighbour_distances(X, 2)
    return twonn_from_distances(dist[:, 0], dist[:, 1], discard_fraction=discard_fraction, n_duplicates=n_dup)


def levina_bickel_from_distances(T, *, k1: int = 10, k2: int = 20, n_duplicates: int = 0) -> LevinaBickelResult:
    """Levina-Bickel from each point's sorted neighbour distances T [n, >= k2] (see :func:`levina_bickel`)."""
    if not (2 <= k1 <= k2):
        raise ProtocolError("need 2 <= k1 <= k2", field="k1,k2", value=(k1, k2))
    logT = np.log(np.asarray(T, dtype=np.float64)[:, :k2])  # [n, k2]: distances to neighbours 1..k2
    estimates = []
    for k in range(k1, k2 + 1):
        inv_m = (logT[:, k - 1 : k] - logT[:, : k - 1]).sum(axis=1) / (k - 1)
        estimates.append(1.0 / inv_m.mean())
    return LevinaBickelResult(d=float(np.mean(estimates)), k1=k1, k2=k2, n_points=len(logT), n_duplicates=n_duplicates)


def levina_bickel(X, *, k1: int = 10, k2: int = 20) -> LevinaBickelResult:
    """Levina-Bickel MLE of intrinsic dimension, averaged over k in [k1, k2].

    For each point and k: m_k(x) = [(1/(k-1)) sum_{j<k} log(T_k/T_j)]^-1; the
    inverse estimates are averaged over points before inverting (MacKay & Ghahramani).
    """
    if not (2 <= k1 <= k2):
        raise ProtocolError("need 2 <= k1 <= k2", field="k1,k2", value=(k1, k2))
    dist, _, _, n_dup = neighbour_distances(X, k2, min_points=max(MIN_POINTS, k2 + 2))
    return levina_bickel_from_distances(dist, k1=k1, k2=k2, n_duplicates=n_dup)


def pca_spectrum(X) -> np.ndarray:
    """Eigenvalues (descending) of the covariance of the mean-centred cloud."""
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0, keepdims=True)
    s = np.linalg.svd(Xc, compute_uv=False)
    return s**2 / max(len(X) - 1, 1)


def pca_rank(X, *, variance: float = 0.9) -> int:
    """Smallest number of principal components explaining ``variance`` of the total."""
    if not 0.0 < variance <= 1.0:
        raise ProtocolError("must be in (0, 1]", field="variance", value=variance)
    lam = pca_spectrum(X)
    total = lam.sum()
    if total <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(lam) / total, variance - 1e-12) + 1)


def participation_ratio(X) -> float:
    """(sum lambda)^2 / sum lambda^2 of the covariance eigenvalues."""
    lam = pca_spectrum(X)
    denom = float(np.sum(lam**2))
    return float(lam.sum() ** 2 / denom) if denom > 0 else 0.0
