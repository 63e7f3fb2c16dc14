"""Per-tensor scale statistics: pure numpy, no I/O.

- Norm gains: mean |g| and RMS of the *effective* gain g = w + offset (offset 1
  for Gemma's ``(1 + w)`` RMSNorm convention, 0 otherwise).
- Projections: Frobenius norm (float64 accumulation) and a spectral-norm
  estimate by power iteration on W^T W from a fixed-seed Gaussian start vector.
  Power iteration converges from below, so the estimate is a lower bound of the
  largest singular value; iterations used, convergence flag and the last
  relative change are recorded with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NormStats:
    """Scale of one norm's effective gain vector."""

    mean_abs: float
    rms: float
    size: int


@dataclass(frozen=True)
class SpectralEstimate:
    """Largest singular value by power iteration."""

    sigma: float
    iterations: int
    converged: bool
    rel_change: float


def norm_stats(weight: np.ndarray, *, offset: float = 0.0) -> NormStats:
    """Mean |g| and RMS of g = weight + offset (a 1-D gain vector)."""
    g = np.asarray(weight, dtype=np.float64).ravel() + offset
    return NormStats(mean_abs=float(np.mean(np.abs(g))), rms=float(np.sqrt(np.mean(g * g))), size=int(g.size))


def frobenius(matrix: np.ndarray, *, chunk: int = 1 << 20) -> float:
    """Frobenius norm with float64 accumulation, in row chunks (no full float64 copy)."""
    m = np.asarray(matrix)
    flat = m.reshape(-1)
    total = 0.0
    for start in range(0, flat.size, chunk):
        part = flat[start:start + chunk].astype(np.float64)
        total += float(part @ part)
    return float(np.sqrt(total))


def spectral_norm(matrix: np.ndarray, *, seed: int = 0, max_iter: int = 300, tol: float = 1e-5) -> SpectralEstimate:
    """Largest singular value of a 2-D matrix by power iteration.

    Parameters
    ----------
    matrix : ndarray of shape (m, n)
    seed : int
        Seed of the Gaussian start vector (fixed: the estimate is deterministic).
    max_iter : int
        Maximum number of W^T W products.
    tol : float
        Stop when the relative change of the estimate falls below ``tol``.
    """
    w = np.asarray(matrix, dtype=np.float32)
    if w.ndim != 2:
        raise ValueError(f"spectral_norm needs a 2-D matrix, got shape {w.shape}")
    if not np.any(w):
        return SpectralEstimate(0.0, 0, True, 0.0)
    rng = np.random.default_rng(seed)
    # iterate on the smaller side: v in R^min(m, n)
    a = w if w.shape[1] <= w.shape[0] else w.T
    v = rng.standard_normal(a.shape[1]).astype(np.float32)
    v /= np.linalg.norm(v)
    sigma, rel = 0.0, float("inf")
    for it in range(1, max_iter + 1):
        u = a @ v
        new_sigma = float(np.linalg.norm(u.astype(np.float64)))
        v = a.T @ u
        nv = float(np.linalg.norm(v.astype(np.float64)))
        if nv == 0.0:
            return SpectralEstimate(new_sigma, it, True, 0.0)
        v = (v / nv).astype(np.float32)
        rel = abs(new_sigma - sigma) / new_sigma if new_sigma > 0 else 0.0
        sigma = new_sigma
        if rel < tol:
            return SpectralEstimate(sigma, it, True, rel)
    return SpectralEstimate(sigma, max_iter, False, rel)
