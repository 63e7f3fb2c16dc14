"""Subspace overlap between heads, and its random-subspace null: pure numpy.

Each head's cloud (tokens x ambient dim) is mean-centred; its top-k right
singular vectors span its principal subspace B (ambient x k). The overlap of two
heads is computed from the cosines of the principal angles between their
subspaces, i.e. the singular values of B_i^T B_j: ``mean_cos`` (the ATLAS O_h
statistic) and ``mean_cos2`` (whose null expectation is exactly k / n).

Null: independent, uniformly random k-dimensional subspaces of the same ambient
dimension n (Haar measure), by seeded Monte Carlo. For k = 7 the null mean of
``mean_cos`` is about 0.280 in R^64 and 0.196 in R^128 (PROTOCOL.md).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from attnscope.errors import ProtocolError


def subspace_basis(X, k: int) -> np.ndarray:
    """Orthonormal basis (n_dims x k) of the top-k principal subspace of the centred cloud X."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ProtocolError("expected shape (n_points, n_dims)", field="X.shape", value=X.shape)
    n_points, n_dims = X.shape
    if not 1 <= k <= n_dims:
        raise ProtocolError(f"k must be in [1, {n_dims}] (the ambient dimension)", field="k", value=k)
    if n_points <= k:
        raise ProtocolError(f"need more than k={k} points per head", field="n_points", value=n_points)
    Xc = X - X.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    return vt[:k].T


def principal_cosines(B1: np.ndarray, B2: np.ndarray) -> np.ndarray:
    """Cosines of the principal angles between span(B1) and span(B2) (orthonormal columns)."""
    return np.clip(np.linalg.svd(B1.T @ B2, compute_uv=False), 0.0, 1.0)


def overlap_matrices(bases: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """H x H matrices of mean cosine and mean cos^2 between every pair of head bases.

    The diagonal is 1 (a subspace with itself).
    """
    H = len(bases)
    mc = np.eye(H)
    mc2 = np.eye(H)
    for i in range(H):
        for j in range(i + 1, H):
            c = principal_cosines(bases[i], bases[j])
            mc[i, j] = mc[j, i] = c.mean()
            mc2[i, j] = mc2[j, i] = (c**2).mean()
    return mc, mc2


def pair_mean(M: np.ndarray, pairs: np.ndarray | None = None) -> float:
    """Mean of the off-diagonal upper-triangle entries of M (or of the given boolean pair mask)."""
    H = M.shape[0]
    iu = np.triu_indices(H, k=1)
    mask = np.zeros((H, H), dtype=bool)
    mask[iu] = True
    if pairs is not None:
        mask &= pairs
    if not mask.any():
        return float("nan")
    return float(M[mask].mean())


@dataclass(frozen=True)
class SubspaceNull:
    """Null distribution of the layer-mean overlap of H independent random k-subspaces of R^n."""

    k: int
    n: int
    n_heads: int
    mean_cos: float
    mean_cos_q025: float
    mean_cos_q975: float
    mean_cos_sd: float
    mean_cos2: float  # exactly k / n in expectation
    n_draws: int
    seed: int


@functools.lru_cache(maxsize=64)  # the same null serves every layer of a model
def random_subspace_null(k: int, n: int, n_heads: int, *, n_draws: int = 200, seed: int = 0) -> SubspaceNull:
    """Monte Carlo null for the mean pairwise overlap of ``n_heads`` random k-subspaces of R^n."""
    if not 1 <= k <= n:
        raise ProtocolError(f"k must be in [1, {n}]", field="k", value=k)
    if n_heads < 2:
        raise ProtocolError("need at least 2 heads to compare", field="n_heads", value=n_heads)
    rng = np.random.default_rng(seed)
    draws = np.empty(n_draws)
    for r in range(n_draws):
        bases = [np.linalg.qr(rng.standard_normal((n, k)))[0] for _ in range(n_heads)]
        mc, _ = overlap_matrices(bases)
        draws[r] = pair_mean(mc)
    return SubspaceNull(
        k=k, n=n, n_heads=n_heads,
        mean_cos=float(draws.mean()),
        mean_cos_q025=float(np.quantile(draws, 0.025)),
        mean_cos_q975=float(np.quantile(draws, 0.975)),
        mean_cos_sd=float(draws.std(ddof=1)),
        mean_cos2=k / n,
        n_draws=n_draws, seed=seed,
    )


def overlap_verdict(ci_lo: float, ci_hi: float, null: SubspaceNull) -> str:
    """'above the random-subspace null', 'below …', or 'indistinguishable from null'.

    Above (below) when the observed CI lies wholly above (below) the null's central 95% range.
    """
    if ci_lo > null.mean_cos_q975:
        return "above the random-subspace null"
    if ci_hi < null.mean_cos_q025:
        return "below the random-subspace null"
    return "indistinguishable from null"
