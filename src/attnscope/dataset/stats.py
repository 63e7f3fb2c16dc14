"""Small statistics for the scorecard: percentile bootstrap over panel units, Wilson intervals, OLS.

Pure numpy functions; every interval says its method. The panel unit is a model
(one record per model and corpus), so the bootstrap resamples models.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

N_BOOT = 2000
SEED = 0
BOOT_METHOD = f"percentile bootstrap over models (n_boot={N_BOOT}, seed={SEED})"


def boot_ci(values, stat: Callable[[np.ndarray], float], *, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[float, float]:
    """95% percentile-bootstrap CI of ``stat`` over resampled rows of ``values`` (1-D or 2-D by rows)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    reps = np.array([stat(x[i]) for i in idx], dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return (math.nan, math.nan)
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return float(lo), float(hi)


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion k/n."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def ols_line(x, y) -> tuple[float, float]:
    """Slope and intercept of the least-squares line y = a + b x."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    if sxx <= 0:
        return (math.nan, math.nan)
    b = float(((x - xm) * (y - ym)).sum()) / sxx
    return b, ym - b * xm


def line_boot(x, y, *, n_boot: int = N_BOOT, seed: int = SEED) -> dict[str, tuple[float, float]]:
    """Pairs-bootstrap 95% CIs of the OLS slope and intercept."""
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    slope = boot_ci(xy, lambda a: ols_line(a[:, 0], a[:, 1])[0], n_boot=n_boot, seed=seed)
    icpt = boot_ci(xy, lambda a: ols_line(a[:, 0], a[:, 1])[1], n_boot=n_boot, seed=seed)
    return {"slope": slope, "intercept": icpt}


def covers(ci: tuple[float, float], value: float) -> bool | None:
    if not all(math.isfinite(v) for v in ci):
        return None
    return ci[0] <= value <= ci[1]


def verdict_value(claimed: float, ci: tuple[float, float], n: int, *, min_n: int = 3) -> str:
    """'untestable (n < min_n)', 'consistent' (claimed value inside the 95% CI) or 'contradicted'."""
    if n < min_n:
        return f"untestable (n={n} < {min_n})"
    c = covers(ci, claimed)
    if c is None:
        return "untestable (no CI)"
    return "consistent with the claim" if c else "contradicted (claimed value outside the 95% CI)"


def diff_means_ci(a, b, *, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[float, float]:
    """95% CI of mean(a) - mean(b) by a stratified percentile bootstrap (each group resampled on its own)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    ra = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(1)
    rb = b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(1)
    lo, hi = np.percentile(ra - rb, [2.5, 97.5])
    return float(lo), float(hi)
