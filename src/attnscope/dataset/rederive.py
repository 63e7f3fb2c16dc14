"""Re-derive the published fits of a record from its stored A(d), and flag data defects.

The published e4 files store, per distance, the mean over 3 seeds of the attention
on the key at position 49 (taf-e4 protocol), the per-seed means, and OLS fits on
d >= d_min. Their ``gamma_CI_95`` is a percentile bootstrap over the *fit points*
(the (d, A) pairs are resampled with replacement and the line refitted): our
re-derivation reproduces the stored intervals to Monte-Carlo precision with that
method and to no other (bootstrap over seeds gives very different intervals).
That method ignores the prompt/seed sampling noise, so attnscope also reports a
seed-cluster interval (PROTOCOL.md: "Seeds are prompts too").

Estimators here are pure functions on arrays; :func:`rederive_record` is the
record-level wrapper. The one formula implementation of the fits is
:mod:`attnscope.measure.fits`.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from attnscope.measure.fits import fit_exp_ols, fit_power_ols

#: Iglewicz-Hoaglin cutoff on the modified z-score 0.6745*|r|/MAD.
SEED_OUTLIER_Z = 3.5
#: and the seed must differ from the seed median by at least this factor (log-log fits
#: are insensitive to smaller deviations; the panel's seed spread is heavy-tailed).
SEED_OUTLIER_MIN_FOLD = 3.0
#: R^2 below which a published power-law fit is flagged.
R2_FLAG = 0.9
#: fits on this many points or fewer are flagged.
MIN_FIT_POINTS_FLAG = 3
#: rounding of the published values (R2 to 6 decimals, delta R2 to 4 decimals).
TOL = {"gamma": 1e-9, "log_A": 1e-9, "R2": 5.1e-7, "n_points": 0.0, "exp_lambda": 1e-12,
       "exp_log_A": 1e-9, "exp_R2": 5.1e-7, "delta_R2": 5.1e-5}
#: assumed number of bootstrap resamples of the published CI (not recorded in the files).
PUBLISHED_N_BOOT = 1000


@dataclass(frozen=True)
class Refit:
    """OLS power-law and exponential fits of one curve on d >= d_min."""

    gamma: float
    log_A: float
    R2: float
    n_points: int
    exp_lambda: float
    exp_log_A: float
    exp_R2: float
    delta_R2: float


def refit_curve(distances, A, *, d_min: int) -> Refit:
    """Fit ln A = log_A - gamma ln d and ln A = a - lambda d on d >= d_min (OLS, log space)."""
    p = fit_power_ols(distances, A, d_min=d_min)
    e = fit_exp_ols(distances, A, d_min=d_min)
    return Refit(gamma=-p.slope, log_A=p.intercept, R2=p.R2, n_points=p.n_points,
                 exp_lambda=-e.slope, exp_log_A=e.intercept, exp_R2=e.R2, delta_R2=p.R2 - e.R2)


def _fit_points(distances, A, d_min: int) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(distances, dtype=float)
    a = np.asarray(A, dtype=float)
    keep = (d >= d_min) & np.isfinite(a) & (a > 0)
    return np.log(d[keep]), np.log(a[keep])


def _slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS slopes of many resampled point sets: x, y of shape (B, n); NaN when x is constant."""
    mx = x.mean(1, keepdims=True)
    my = y.mean(1, keepdims=True)
    sxx = ((x - mx) ** 2).sum(1)
    sxy = ((x - mx) * (y - my)).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sxx > 1e-12, sxy / sxx, np.nan)


def point_bootstrap_gammas(distances, A, *, d_min: int, n_boot: int = 4000, seed: int = 0) -> np.ndarray:
    """gamma of ``n_boot`` percentile-bootstrap resamples of the fit points (the published method).

    Resamples whose distances are all equal (no slope) are dropped.
    """
    x, y = _fit_points(distances, A, d_min)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    g = -_slopes(x[idx], y[idx])
    return g[np.isfinite(g)]


def point_bootstrap_ci(distances, A, *, d_min: int, n_boot: int = 4000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of :func:`point_bootstrap_gammas`."""
    g = point_bootstrap_gammas(distances, A, d_min=d_min, n_boot=n_boot, seed=seed)
    lo, hi = np.percentile(g, [2.5, 97.5])
    return float(lo), float(hi)


def seed_cluster_gammas(distances, A_per_seed, *, d_min: int, max_exact: int = 6,
                        n_boot: int = 4000, seed: int = 0) -> np.ndarray:
    """gamma of the seed-mean curve over seed-cluster bootstrap resamples.

    Seeds (each a batch of prompts) are resampled with replacement and the mean curve
    refitted. With k <= ``max_exact`` seeds all k^k resamples are enumerated (exact
    bootstrap distribution: 27 resamples for 3 seeds); otherwise ``n_boot`` random ones.

    Parameters
    ----------
    distances : array_like of shape (n_d,)
    A_per_seed : array_like of shape (n_d, k)
        Per-seed mean attention at each distance.
    """
    P = np.asarray(A_per_seed, dtype=float)
    k = P.shape[1]
    if k <= max_exact:
        combos = np.array(list(itertools.product(range(k), repeat=k)))
    else:
        combos = np.random.default_rng(seed).integers(0, k, size=(n_boot, k))
    curves = P[:, combos].mean(axis=2).T  # (B, n_d)
    d = np.asarray(distances, dtype=float)
    keep = d >= d_min
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(curves[:, keep])
    x = np.broadcast_to(np.log(d[keep]), y.shape)
    g = -_slopes(x, y)
    return g[np.isfinite(g)]


def seed_cluster_ci(distances, A_per_seed, *, d_min: int) -> tuple[float, float, int]:
    """95% percentile interval of :func:`seed_cluster_gammas` and the number of resamples."""
    g = seed_cluster_gammas(distances, A_per_seed, d_min=d_min)
    lo, hi = np.percentile(g, [2.5, 97.5])
    return float(lo), float(hi), int(len(g))


def seed_log_deviations(distances, A_per_seed, *, d_min: int) -> np.ndarray:
    """r[d, s] = ln A_s(d) - median_s ln A_s(d) on the fit distances (NaN where A <= 0)."""
    P = np.asarray(A_per_seed, dtype=float)
    d = np.asarray(distances, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.where(P > 0, np.log(np.where(P > 0, P, 1.0)), np.nan)[d >= d_min]
    return L - np.nanmedian(L, axis=1, keepdims=True)


def panel_mad(deviation_sets: list[np.ndarray]) -> float:
    """MAD of the non-zero |r| pooled over a panel (the median seed's own r = 0 is excluded)."""
    r = np.concatenate([np.abs(x[np.isfinite(x)]).ravel() for x in deviation_sets]) if deviation_sets else np.array([])
    r = r[r > 0]
    return float(np.median(r)) if r.size else float("nan")


def seed_outliers(distances, A_per_seed, seeds, *, d_min: int, mad: float) -> list[str]:
    """Flags ``seed_outlier:seed=S,d=D,fold=F`` for seeds beyond the robust rule.

    Modified z = 0.6745*|r|/mad > :data:`SEED_OUTLIER_Z` and fold = e^|r| >=
    :data:`SEED_OUTLIER_MIN_FOLD`; one flag per seed, at its worst distance.
    """
    r = seed_log_deviations(distances, A_per_seed, d_min=d_min)
    dfit = [int(x) for x in distances if x >= d_min]
    out = []
    for j, s in enumerate(seeds):
        col = np.abs(r[:, j])
        if not np.isfinite(col).any():
            continue
        i = int(np.nanargmax(col))
        z = 0.6745 * col[i] / mad if mad > 0 else math.inf
        if z > SEED_OUTLIER_Z and math.exp(col[i]) >= SEED_OUTLIER_MIN_FOLD:
            out.append(f"seed_outlier:seed={s},d={dfit[i]},fold={math.exp(col[i]):.1f}")
    return out


@dataclass(frozen=True)
class FieldCheck:
    """One stored value against its re-derivation."""

    name: str
    stored: float | None
    recomputed: float | None
    abs_diff: float | None
    tolerance: float
    agrees: bool | None


@dataclass(frozen=True)
class CICheck:
    """The stored CI against the same method re-run (Monte-Carlo: judged by quantile level)."""

    method: str
    stored: tuple[float, float] | None
    recomputed: tuple[float, float] | None
    stored_quantiles: tuple[float, float] | None
    quantile_tolerance: float
    agrees: bool | None
    note: str = ""


@dataclass(frozen=True)
class Rederivation:
    """Re-derivation of one record: every published fit value, its CI, and defects."""

    key: str
    model_id: str
    corpus: str
    source: str | None
    d_min: int
    checks: list[FieldCheck]
    ci: CICheck
    seed_ci: tuple[float, float, int] | None
    exact: bool | None
    defects: list[str] = field(default_factory=list)


def _rounding_tol(name: str, stored: float) -> float:
    """Tolerance = the field's default, widened to half a unit of the stored value's last decimal."""
    text = repr(float(stored))
    if "e" in text or "." not in text:
        return TOL[name]
    decimals = len(text.split(".")[1])
    return max(TOL[name], 0.5 * 10.0 ** (-decimals) * 1.0001) if decimals <= 6 else TOL[name]


def _check(name: str, stored, recomputed) -> FieldCheck:
    if stored is None or recomputed is None or not np.isfinite(recomputed):
        return FieldCheck(name, stored, recomputed, None, TOL[name], None)
    diff = abs(float(stored) - float(recomputed))
    tol = _rounding_tol(name, stored)
    return FieldCheck(name, float(stored), float(recomputed), diff, tol, diff <= tol)


def ci_check(distances, A, stored: tuple[float, float] | None, *, d_min: int, n_boot: int = 4000,
             seed: int = 0) -> CICheck:
    """Re-run the published CI method and locate the stored endpoints in its distribution.

    The published resamples are not reproducible bit for bit (RNG and seed not recorded),
    so agreement means: the stored endpoints sit at quantile levels 0.025 and 0.975 of our
    bootstrap distribution within 3 standard errors of a B = :data:`PUBLISHED_N_BOOT`
    percentile estimate (plus our own 1/sqrt(n_boot) error).
    """
    method = "percentile bootstrap over the fit points (published method; RNG/seed not recorded)"
    g = point_bootstrap_gammas(distances, A, d_min=d_min, n_boot=n_boot, seed=seed)
    rec = tuple(float(v) for v in np.percentile(g, [2.5, 97.5]))
    se = math.sqrt(0.025 * 0.975 / PUBLISHED_N_BOOT) + math.sqrt(0.025 * 0.975 / n_boot)
    tol = 3 * se
    if stored is None:
        return CICheck(method, None, rec, None, tol, None, "no stored CI")
    q = (float(np.mean(g <= stored[0])), float(np.mean(g <= stored[1])))
    inside = all(g.min() - 1e-9 <= v <= g.max() + 1e-9 for v in stored)
    ok = abs(q[0] - 0.025) <= tol and abs(q[1] - 0.975) <= tol and inside
    note = "" if ok else ("stored CI outside the range of every resample" if not inside
                          else "stored CI not reproducible by the point bootstrap")
    return CICheck(method, (float(stored[0]), float(stored[1])), rec, q, tol, ok, note)


def rederive_record(rec, *, n_boot: int = 4000, seed: int = 0) -> Rederivation:
    """Re-fit a :class:`attnscope.records.MeasurementRecord` from its stored curve.

    Compares gamma, log_A, R2, n_points, the exponential lambda / log_A / R2 and
    delta R2 with the published values (``provenance.extra['published']``), re-runs
    the published CI method, and computes the seed-cluster CI when per-seed data exist.

    Parameters
    ----------
    rec : MeasurementRecord
    n_boot : int
        Resamples of the point bootstrap used to locate the stored CI (default 4000).
    seed : int
        Seed of that bootstrap.

    Returns
    -------
    Rederivation
        ``checks`` (one :class:`FieldCheck` per published value; tolerance = the published
        rounding), ``ci`` (:class:`CICheck`), ``seed_ci`` ((lo, hi, n_resamples) or None),
        ``exact`` (all checks agree; None when nothing was published) and ``defects``.
    """
    m = rec.measurement
    pub = rec.provenance.extra.get("published", {}) or {}
    d_min = m.fit.d_min if m.fit is not None else 30
    base = dict(key=rec.key, model_id=rec.model_id, corpus=m.corpus, source=rec.provenance.source, d_min=d_min)
    if m.curve is None or len(m.curve.distances) == 0:
        return Rederivation(**base, checks=[], ci=CICheck("n/a", None, None, None, 0.0, None, "no curve stored"),
                            seed_ci=None, exact=None, defects=list(rec.quality))
    ds, A = m.curve.distances, m.curve.A
    rf = refit_curve(ds, A, d_min=d_min)
    fp = pub.get("fit_power_law") or {}
    fe = pub.get("fit_exponential") or {}
    checks = [
        _check("gamma", fp.get("gamma"), rf.gamma),
        _check("log_A", fp.get("log_A"), rf.log_A),
        _check("R2", fp.get("R2"), rf.R2),
        _check("n_points", fp.get("n_points", fp.get("n_pts")), rf.n_points),
        _check("exp_lambda", fe.get("lambda"), rf.exp_lambda),
        _check("exp_log_A", fe.get("log_A"), rf.exp_log_A),
        _check("exp_R2", fe.get("R2"), rf.exp_R2),
        _check("delta_R2", pub.get("delta_R2_power_minus_exp"), rf.delta_R2),
    ]
    ci_pub = pub.get("gamma_CI_95")
    stored_ci = (ci_pub["lo"], ci_pub["hi"]) if isinstance(ci_pub, dict) else None
    ci = ci_check(ds, A, stored_ci, d_min=d_min, n_boot=n_boot, seed=seed)
    seed_ci = None
    P = m.curve.A_per_seed
    if P is not None and all(row is not None and None not in row for row in P) and len(P[0]) >= 2:
        seed_ci = seed_cluster_ci(ds, P, d_min=d_min)
    judged = [c.agrees for c in checks if c.agrees is not None]
    exact = all(judged) if judged else None
    return Rederivation(**base, checks=checks, ci=ci, seed_ci=seed_ci, exact=exact, defects=list(rec.quality))
