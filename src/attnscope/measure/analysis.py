"""From per-prompt statistics to estimates with bootstrap CIs and nulls. Pure numpy.

Input: what the reducers kept per prompt (the clusters). Output: the decay
curve, OLS gamma (headline, compatible with the published method), the
exponential fit, the MLE fits per head pooled, per-layer / per-head gammas, sink
mass and the uniform null with its verdict, every one with a CI from ONE shared
cluster bootstrap over prompts (each replicate recomputes the whole pipeline).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from attnscope.errors import ProtocolError
from attnscope.measure.bootstrap import BootstrapResult, cluster_bootstrap, weighted_mean
from attnscope.measure.fits import fit_exp_ols, fit_power_ols_batch
from attnscope.measure.mle import fit_rows_mle
from attnscope.measure.nulls import uniform_window_stats, verdict


@dataclass(frozen=True)
class PromptStats:
    """Per-prompt statistics (P prompts, L layers, H heads, n_d distances).

    Attributes
    ----------
    distances : ndarray (n_d,) of int, tokens
    A : ndarray (P, L, H, n_d)
        Mean attention probability at each distance (mean over the prompt's queries).
    null_A : ndarray (P, L, n_d)
        The same average under uniform attention, for the same queries and each layer's mask
        (sliding windows); the model-level null is its mean over layers.
    sink : ndarray (P, L, H)
        Mean attention mass on the sink key.
    mean_log_d, mean_d : ndarray (P, L, H) or None
        Mean over the prompt's rows of <ln d> and <d> of the normalised row on the
        MLE window [d_min, d_max] (rows protocol only).
    window : (d_min, d_max) or None
        The MLE window (tokens).
    """

    distances: np.ndarray
    A: np.ndarray
    null_A: np.ndarray
    sink: np.ndarray
    mean_log_d: Optional[np.ndarray] = None
    mean_d: Optional[np.ndarray] = None
    window: Optional[tuple[int, int]] = None


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its CI and the interval method."""

    value: float
    lo: float
    hi: float
    method: str


@dataclass
class Analysis:
    """Everything the record needs; arrays are indexed [layer] or [layer, head]."""

    curve: list[Estimate]
    gamma: Estimate
    log_A: float
    R2: float
    n_points: int
    exp_lambda: float
    exp_R2: float
    gamma_uniform: float
    curve_uniform: list[float]
    layer_gamma_uniform: list[float]
    excess: Estimate
    verdict: str
    sink: Estimate
    layer_gamma: list[Estimate]
    layer_R2: list[float]
    layer_sink: list[float]
    head_gamma: list[list[Estimate]] | None
    head_R2: list[list[float]] | None
    head_sink: list[list[float]] | None
    mle_gamma: Estimate | None = None
    mle_lambda: float | None = None
    mle_llr: Estimate | None = None
    mle_gamma_uniform: float | None = None
    mle_n_at_bound: int = 0
    mle_n_undefined: int = 0
    head_mle_gamma: list[list[Estimate]] | None = None
    n_boot: int = 0
    n_prompts: int = 0
    methods: dict[str, str] = field(default_factory=dict)


class _Layout:
    """Named blocks of a flat statistic vector."""

    def __init__(self) -> None:
        self.slices: dict[str, tuple[slice, tuple[int, ...]]] = {}
        self.size = 0

    def add(self, name: str, shape: tuple[int, ...]) -> None:
        n = int(np.prod(shape)) if shape else 1
        self.slices[name] = (slice(self.size, self.size + n), shape)
        self.size += n

    def get(self, vec: np.ndarray, name: str) -> np.ndarray:
        sl, shape = self.slices[name]
        return vec[..., sl].reshape(vec.shape[:-1] + shape)


def _pool(x: np.ndarray, *, axis: tuple[int, int]) -> np.ndarray:
    """Mean over heads, then layers, skipping units whose fit is undefined (no mass in the window,
    e.g. a sliding-window layer whose window ends before d_min); NaN only if every unit is."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, which is the answer
        return np.nanmean(np.nanmean(x, axis=axis[0]), axis=axis[1])


def analyze(stats: PromptStats, *, d_min: int, n_boot: int, seed: int, per_head: bool,
            level: float = 0.95) -> Analysis:
    """Fit, bootstrap and compare to the uniform null.

    Parameters
    ----------
    stats : PromptStats
    d_min : int
        Smallest distance used by the OLS fits (tokens).
    n_boot : int
        Bootstrap replicates over prompts.
    seed : int
        Seed of the bootstrap generator (recorded).
    per_head : bool
        Also compute per-head gammas (per-layer ones are always computed).
    """
    d = np.asarray(stats.distances)
    P, L, H, nD = stats.A.shape
    if int((d >= d_min).sum()) < 2:
        raise ProtocolError(f"need at least 2 distances >= d_min={d_min} to fit a power law",
                            field="distances", value=d.tolist())
    has_mle = stats.mean_log_d is not None and stats.window is not None
    lay = _Layout()
    for name, shape in [("curve", (nD,)), ("gamma", ()), ("gamma_u", ()), ("excess", ()), ("sink", ()),
                        ("layer_gamma", (L,)), ("layer_gamma_u", (L,))]:
        lay.add(name, shape)
    if per_head:
        lay.add("head_gamma", (L, H))
    if has_mle:
        for name, shape in [("mle_gamma", ()), ("mle_llr", ())] + ([("head_mle", (L, H))] if per_head else []):
            lay.add(name, shape)

    def stat(w: np.ndarray) -> np.ndarray:
        out = np.empty((w.shape[0], lay.size))
        a = weighted_mean(w, stats.A)  # (B, L, H, nD)
        curve = a.mean(axis=2).mean(axis=1)  # heads, then layers
        g = fit_power_ols_batch(d, curve, d_min=d_min).gamma
        null = weighted_mean(w, stats.null_A)  # (B, L, nD)
        gu = fit_power_ols_batch(d, null.mean(axis=1), d_min=d_min).gamma
        lay.get(out, "curve")[:] = curve
        lay.get(out, "gamma")[:] = g
        lay.get(out, "gamma_u")[:] = gu
        lay.get(out, "excess")[:] = g - gu
        lay.get(out, "sink")[:] = weighted_mean(w, stats.sink).mean(axis=(1, 2))
        lay.get(out, "layer_gamma")[:] = fit_power_ols_batch(d, a.mean(axis=2), d_min=d_min).gamma
        lay.get(out, "layer_gamma_u")[:] = fit_power_ols_batch(d, null, d_min=d_min).gamma
        if per_head:
            lay.get(out, "head_gamma")[:] = fit_power_ols_batch(d, a, d_min=d_min).gamma
        if has_mle:
            fit = fit_rows_mle(weighted_mean(w, stats.mean_log_d), weighted_mean(w, stats.mean_d),
                               d_min=stats.window[0], d_max=stats.window[1])
            lay.get(out, "mle_gamma")[:] = _pool(fit.gamma, axis=(2, 1))
            lay.get(out, "mle_llr")[:] = _pool(fit.llr, axis=(2, 1))
            if per_head:
                lay.get(out, "head_mle")[:] = fit.gamma
        return out

    boot = cluster_bootstrap(stat, P, n_boot=n_boot, rng=np.random.default_rng(seed), level=level)
    return _assemble(stats, boot, lay, d_min=d_min, per_head=per_head, has_mle=has_mle)


def _est(boot: BootstrapResult, lay: _Layout, name: str) -> np.ndarray:
    """Object array of Estimate with the block's shape."""
    v, lo, hi, m = (lay.get(x, name) for x in (boot.estimate, boot.lo, boot.hi, boot.method))
    flat = [Estimate(float(a), float(b), float(c), str(e))
            for a, b, c, e in zip(np.ravel(v), np.ravel(lo), np.ravel(hi), np.ravel(m))]
    arr = np.empty(len(flat), dtype=object)
    arr[:] = flat
    return arr.reshape(np.shape(v))


def _assemble(stats: PromptStats, boot: BootstrapResult, lay: _Layout, *, d_min: int, per_head: bool,
              has_mle: bool) -> Analysis:
    d = np.asarray(stats.distances)
    P, L, H, nD = stats.A.shape
    a = stats.A.mean(axis=0)  # (L, H, nD)
    curve = a.mean(axis=1).mean(axis=0)
    full = fit_power_ols_batch(d, curve, d_min=d_min)
    expo = fit_exp_ols(d, curve, d_min=d_min)
    gu = float(lay.get(boot.estimate, "gamma_u"))
    g = _est(boot, lay, "gamma")[()]
    layer_fit = fit_power_ols_batch(d, a.mean(axis=1), d_min=d_min)
    sink = stats.sink.mean(axis=0)
    res = Analysis(
        curve=list(_est(boot, lay, "curve")),
        gamma=g, log_A=float(full.log_A), R2=float(full.R2), n_points=int(full.n_points),
        exp_lambda=float(-expo.slope), exp_R2=float(expo.R2),
        gamma_uniform=gu, curve_uniform=[float(x) for x in stats.null_A.mean(axis=(0, 1))],
        layer_gamma_uniform=[float(x) for x in lay.get(boot.estimate, "layer_gamma_u")],
        excess=_est(boot, lay, "excess")[()],
        verdict=verdict(g.lo, g.hi, gu), sink=_est(boot, lay, "sink")[()],
        layer_gamma=list(_est(boot, lay, "layer_gamma")), layer_R2=[float(x) for x in layer_fit.R2],
        layer_sink=[float(x) for x in sink.mean(axis=1)],
        head_gamma=None, head_R2=None, head_sink=None, n_boot=boot.n_boot, n_prompts=P,
    )
    if per_head:
        res.head_gamma = _est(boot, lay, "head_gamma").tolist()
        res.head_R2 = fit_power_ols_batch(d, a, d_min=d_min).R2.tolist()
        res.head_sink = sink.tolist()
    if has_mle:
        lo_, hi_ = stats.window
        fit = fit_rows_mle(stats.mean_log_d.mean(axis=0), stats.mean_d.mean(axis=0), d_min=lo_, d_max=hi_)
        ul, ud = uniform_window_stats(lo_, hi_)
        res.mle_gamma = _est(boot, lay, "mle_gamma")[()]
        res.mle_llr = _est(boot, lay, "mle_llr")[()]
        res.mle_lambda = float(_pool(fit.lam, axis=(1, 0)))
        res.mle_n_undefined = int((~np.isfinite(fit.gamma)).sum())
        res.mle_gamma_uniform = float(fit_rows_mle(np.array(ul), np.array(ud), d_min=lo_, d_max=hi_).gamma)
        res.mle_n_at_bound = int(fit.at_bound.sum())
        if per_head:
            res.head_mle_gamma = _est(boot, lay, "head_mle").tolist()
    res.methods = {"gamma": g.method, "excess": res.excess.method,
                   "mle_gamma": res.mle_gamma.method if res.mle_gamma else "n/a"}
    return res
