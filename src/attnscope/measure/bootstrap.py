"""Cluster bootstrap over prompts: percentile and BCa intervals. Pure numpy.

PROTOCOL.md, "Uncertainty": resample prompts (the clusters) with replacement,
recompute the whole pipeline, take percentile intervals (BCa where it is
stable). Never bootstrap the fit points.

A statistic is a function of cluster *weights*: ``stat(w)`` takes an array of
shape (B, n_clusters) holding how often each cluster appears in each of B
resamples (the full sample is all ones) and returns an array of shape (B, K):
K statistics per resample. Weighted means over prompts make this cheap and
vectorised.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
from scipy.special import ndtr, ndtri

from attnscope.errors import ProtocolError

Method = Literal["percentile", "bca", "auto"]
MIN_CLUSTERS_BCA = 10  # below this the jackknife acceleration is too noisy to trust


@dataclass(frozen=True)
class BootstrapResult:
    """Point estimates and intervals for K statistics.

    Attributes
    ----------
    estimate : ndarray of shape (K,)
        The statistic on the full sample.
    lo, hi : ndarray of shape (K,)
        Interval bounds at ``level``; NaN where no finite replicate exists.
    method : ndarray of shape (K,), str
        "bca" or "percentile", per statistic.
    n_boot : int
    level : float
    n_clusters : int
    replicates : ndarray of shape (n_boot, K)
        The bootstrap distribution (kept for derived statistics).
    """

    estimate: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    method: np.ndarray
    n_boot: int
    level: float
    n_clusters: int
    replicates: np.ndarray


def resample_weights(n_clusters: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Multinomial cluster counts, shape (n_boot, n_clusters): each row sums to n_clusters."""
    return rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_boot).astype(float)


def _nanquantile(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-column quantiles; q has shape (K,) (one level per column)."""
    out = np.full(x.shape[1], np.nan)
    for k in range(x.shape[1]):
        col = x[:, k]
        col = col[np.isfinite(col)]
        if col.size and np.isfinite(q[k]):
            out[k] = np.quantile(col, q[k])
    return out


def _bca_levels(est, reps, jack, alpha) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BCa quantile levels per statistic and a mask of where BCa is stable."""
    finite = np.isfinite(reps)
    n_fin = finite.sum(0)
    below = (np.where(finite, reps, np.inf) < est).sum(0) + 0.5 * (np.where(finite, reps, np.nan) == est).sum(0)
    frac = below / np.maximum(n_fin, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = ndtri(frac)
        jm = np.nanmean(jack, axis=0)
        dj = jm - jack
        num = np.nansum(dj**3, axis=0)
        den = 6.0 * np.nansum(dj**2, axis=0) ** 1.5
        acc = num / den
        zl, zh = ndtri(alpha), ndtri(1 - alpha)
        ql = ndtr(z0 + (z0 + zl) / (1 - acc * (z0 + zl)))
        qh = ndtr(z0 + (z0 + zh) / (1 - acc * (z0 + zh)))
    stable = (np.isfinite(z0) & np.isfinite(acc) & np.isfinite(ql) & np.isfinite(qh)
              & (frac > 0) & (frac < 1) & np.all(np.isfinite(jack), axis=0) & (n_fin == reps.shape[0]))
    return ql, qh, stable


def cluster_bootstrap(stat: Callable[[np.ndarray], np.ndarray], n_clusters: int, *, n_boot: int,
                      rng: np.random.Generator, level: float = 0.95, method: Method = "auto",
                      chunk: int = 250) -> BootstrapResult:
    """Bootstrap ``stat`` over clusters (prompts).

    Parameters
    ----------
    stat : callable
        ``stat(weights (B, n_clusters)) -> (B, K)`` as described in the module docstring.
    n_clusters : int
        Number of prompts (>= 2).
    n_boot : int
        Bootstrap replicates (>= 100 recommended; >= 10 required).
    rng : numpy.random.Generator
        Seeded generator (the seed belongs in the record).
    level : float
        Two-sided coverage, in (0, 1).
    method : {"auto", "percentile", "bca"}
        "auto" uses BCa for a statistic when it is stable (>= MIN_CLUSTERS_BCA clusters,
        finite jackknife acceleration, bias-correction fraction strictly in (0, 1)) and the
        percentile interval otherwise; "bca" is the same but never falls back silently (the
        per-statistic ``method`` array says which was used).
    chunk : int
        Resamples evaluated per call of ``stat`` (bounds memory).
    """
    if n_clusters < 2:
        raise ProtocolError("a bootstrap over prompts needs at least 2 prompts", field="prompts", value=n_clusters)
    if n_boot < 10:
        raise ProtocolError("n_boot must be at least 10", field="n_boot", value=n_boot)
    if not 0 < level < 1:
        raise ProtocolError("level must be in (0, 1)", field="level", value=level)
    if method not in ("auto", "percentile", "bca"):
        raise ProtocolError("method must be 'auto', 'percentile' or 'bca'", field="method", value=method)
    est = np.asarray(stat(np.ones((1, n_clusters))), dtype=float)[0]
    reps = np.empty((n_boot, est.size))
    for k in range(0, n_boot, chunk):
        w = resample_weights(n_clusters, min(chunk, n_boot - k), rng)
        reps[k:k + len(w)] = np.asarray(stat(w), dtype=float)
    alpha = (1 - level) / 2
    q_lo = np.full(est.size, alpha)
    q_hi = np.full(est.size, 1 - alpha)
    used = np.full(est.size, "percentile", dtype=object)
    if method != "percentile" and n_clusters >= MIN_CLUSTERS_BCA:
        jack_w = np.ones((n_clusters, n_clusters)) - np.eye(n_clusters)
        jack = np.concatenate([np.asarray(stat(jack_w[k:k + chunk]), dtype=float)
                               for k in range(0, n_clusters, chunk)])
        ql, qh, stable = _bca_levels(est, reps, jack, alpha)
        q_lo = np.where(stable, ql, q_lo)
        q_hi = np.where(stable, qh, q_hi)
        used = np.where(stable, "bca", used)
    lo = _nanquantile(reps, q_lo)
    hi = _nanquantile(reps, q_hi)
    return BootstrapResult(estimate=est, lo=lo, hi=hi, method=used.astype(str), n_boot=n_boot,
                           level=level, n_clusters=n_clusters, replicates=reps)


def weighted_mean(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean over clusters: weights (B, P), values (P, ...) -> (B, ...)."""
    v = np.asarray(values, dtype=float)
    flat = v.reshape(v.shape[0], -1)
    out = (weights @ flat) / weights.sum(axis=1, keepdims=True)
    return out.reshape((weights.shape[0],) + v.shape[1:])
