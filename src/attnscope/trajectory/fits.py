"""Fits of per-layer trajectories and model selection: pure numpy/scipy.

Likelihood: y_L = f(L; theta) + eps_L with eps_L ~ N(0, sigma^2) i.i.d.; the
MLE is least squares, sigma_hat^2 = RSS/n and
ln L = -n/2 (ln(2 pi RSS/n) + 1). Parameters are counted honestly:
k = (mean-function parameters) + 1 (sigma); the piecewise form's split point
is one of its mean-function parameters. AIC = 2k - 2 ln L,
AICc = AIC + 2k(k+1)/(n-k-1), BIC = k ln n - 2 ln L.

Parameter CIs, ``ci_method``:

- ``"wald"`` (default): asymptotic normal theory, cov = s^2 (J^T J)^-1 with the
  analytic Jacobian J at the optimum, s^2 = RSS/(n - p), and Student-t
  quantiles on n - p degrees of freedom (p = mean-function parameters). For the
  piecewise form the segment parameters are conditional on the chosen split,
  and the split's interval is the profile-likelihood set
  {s : 2 (ln L_max - ln L_s) <= chi2_1(level)} (approximate: the split is discrete).
- ``"bootstrap"``: residual bootstrap (centred residuals inflated by
  sqrt(n/(n-p)), refit, percentile interval); the piecewise split is re-chosen
  in every replicate, so its uncertainty propagates.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy import optimize, stats

from attnscope.errors import ProtocolError
from attnscope.trajectory.forms import ALL_FORMS, EXPONENTIAL, N_MEAN_PARAMS, PIECEWISE, PIECEWISE_FORMULA, PIECEWISE_PARAMS, SMOOTH_FORMS, Form, predict

Criterion = Literal["bic", "aic", "aicc"]
CIMethod = Literal["wald", "bootstrap"]


@dataclass(frozen=True)
class ParamEstimate:
    """One fitted parameter with its standard error and CI (None where undefined)."""

    name: str
    value: float
    se: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class FormFit:
    """One functional form fitted to one trajectory."""

    form: str
    formula: str
    params: list[ParamEstimate]
    n_points: int
    k: int  # parameters counted in AIC/BIC: mean-function parameters (+ split) + sigma
    rss: float
    sigma: float  # MLE residual standard deviation sqrt(RSS/n)
    log_likelihood: float
    aic: float
    aicc: float | None
    bic: float
    r2: float | None
    ci_method: str
    ci_level: float
    fitted: list[float]
    notes: list[str] = field(default_factory=list)

    def value(self, name: str) -> float:
        return next(p.value for p in self.params if p.name == name)

    def theta(self) -> np.ndarray:
        return np.array([p.value for p in self.params], dtype=float)


@dataclass(frozen=True)
class Selection:
    """All forms fitted to one trajectory, and the one the criterion selects."""

    criterion: str
    selected: str | None
    fits: dict[str, FormFit]
    akaike_weights: dict[str, float]
    bic_weights: dict[str, float]
    skipped: dict[str, str]
    n_points: int
    notes: list[str] = field(default_factory=list)
    competitive: list[str] = field(default_factory=list)  # forms within 2 criterion units of the selected one
    split_test: Any = None  # attnscope.trajectory.split_test.SplitTest when the piecewise form won and split_sims > 0


# ----------------------------------------------------------------------------- core least squares
def _solve(basis: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched linear LS: basis (..., n, p) -> (beta (..., p), rss (...))."""
    if basis.shape[-1] == 1:  # closed form for one amplitude: beta = <b, y> / <b, b>
        b = basis[..., 0]
        bb = np.einsum("...n,...n->...", b, b)
        beta = (np.einsum("...n,n->...", b, y) / np.where(bb > 0, bb, np.inf))[..., None]
        resid = y - b * beta
    else:
        bt = np.swapaxes(basis, -1, -2)
        a = bt @ basis
        c = (bt @ y[:, None])[..., 0]
        try:
            beta = np.linalg.solve(a, c[..., None])[..., 0]
        except np.linalg.LinAlgError:
            beta = (np.linalg.pinv(a) @ c[..., None])[..., 0]
        resid = y - (basis @ beta[..., None])[..., 0]
    rss = np.einsum("...n,...n->...", resid, resid)
    return beta, np.where(np.isfinite(rss), rss, np.inf)


def _grid(form: Form, x: np.ndarray) -> np.ndarray:
    lo, hi, log = form.shape_range(x)
    if log:
        return np.geomspace(lo, hi, 241)
    t = np.linspace(-6.0, 6.0, 241)  # sinh spacing: dense near 0, where trajectory rates live
    return hi * np.sinh(t) / np.sinh(6.0)


def _fit_smooth(form: Form, x: np.ndarray, y: np.ndarray, *, refine: bool = True) -> tuple[np.ndarray, float, bool]:
    """Least-squares fit of a separable form: (theta, rss, shape parameter at its bound)."""
    if form.shape_range is None:
        beta, rss = _solve(form.basis(x, None), y)
        return form.theta_from(beta, None), float(rss), False
    grid = _grid(form, x)
    with np.errstate(over="ignore", invalid="ignore"):
        betas, rss = _solve(form.basis(x, grid), y)
    j = int(np.argmin(rss))
    s_best, rss_best = float(grid[j]), float(rss[j])
    if refine:
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]

        def profile(s: float) -> float:
            with np.errstate(over="ignore", invalid="ignore"):
                return float(_solve(form.basis(x, s), y)[1])

        res = optimize.minimize_scalar(profile, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-12 * max(abs(hi), abs(lo), 1.0)})
        if res.fun < rss_best:
            s_best, rss_best = float(res.x), float(res.fun)
    beta, _ = _solve(form.basis(x, s_best), y)
    lo, hi, _ = form.shape_range(x)
    at_bound = min(abs(s_best - lo), abs(hi - s_best)) <= 1e-6 * (hi - lo)
    return form.theta_from(beta, s_best), rss_best, at_bound


def _loglik(rss: float, n: int, y: np.ndarray) -> float:
    floor = n * (1e-12 * (float(np.max(np.abs(y))) + 1e-300)) ** 2  # exact fits: keep ln L finite
    return -0.5 * n * (np.log(2.0 * np.pi * max(rss, floor) / n) + 1.0)


def _wald(jac: np.ndarray, rss: float, n: int, p: int, level: float) -> tuple[np.ndarray, float, bool]:
    """Standard errors from s^2 (J^T J)^-1, the t quantile, and whether J^T J was well conditioned."""
    jtj = jac.T @ jac
    ok = bool(np.all(np.isfinite(jtj))) and np.linalg.cond(jtj) < 1e14
    s2 = rss / (n - p)
    se = np.sqrt(np.clip(np.diag(s2 * np.linalg.pinv(jtj)), 0.0, None)) if ok else np.full(p, np.nan)
    return se, float(stats.t.ppf(0.5 + level / 2.0, n - p)), ok


def _make_fit(name, formula, names, theta, se, tq, x, y, rss, k, level, notes, ci_method) -> FormFit:
    n = len(y)
    ll = _loglik(rss, n, y)
    tss = float(np.sum((y - y.mean()) ** 2))
    params = []
    for nm, v, e in zip(names, theta, se):
        good = e is not None and np.isfinite(e)
        params.append(ParamEstimate(nm, float(v), float(e) if good else None,
                                    float(v - tq * e) if good else None, float(v + tq * e) if good else None))
    return FormFit(
        form=name, formula=formula, params=params, n_points=n, k=k, rss=float(rss), sigma=float(np.sqrt(rss / n)),
        log_likelihood=float(ll), aic=float(2 * k - 2 * ll), aicc=float(2 * k - 2 * ll + 2 * k * (k + 1) / (n - k - 1)) if n - k - 1 > 0 else None,
        bic=float(k * np.log(n) - 2 * ll), r2=float(1.0 - rss / tss) if tss > 0 else None,
        ci_method=ci_method, ci_level=level, fitted=[float(v) for v in predict(name, x, np.asarray(theta, dtype=float))], notes=notes)


def fit_smooth(form_name: str, x, y, *, level: float = 0.95) -> FormFit:
    """Fit one smooth form (``linear``, ``power``, ``exponential``, ``free_power``) with Wald CIs."""
    form = SMOOTH_FORMS[form_name]
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    theta, rss, at_bound = _fit_smooth(form, x, y)
    p = form.n_params
    se, tq, ok = _wald(form.jacobian(x, theta), rss, len(y), p, level)
    notes = []
    if at_bound:
        notes.append(f"shape parameter {form.param_names[-1]} at the edge of its allowed range; its CI is unreliable")
    if not ok:
        notes.append("J^T J is singular (parameters not identifiable from these points); no CIs")
    return _make_fit(form.name, form.formula, form.param_names, theta, se if ok else [None] * p, tq, x, y, rss,
                     p + 1, level, notes, "wald")


def _piecewise_search(x, y, min_segment: int, *, near: float = 0.0) -> tuple[np.ndarray, float, list[tuple[int, float]]]:
    """Best split by likelihood: theta (a1, b1, a2, b2, s), rss, and (split index, rss) for every split.

    Every split is first fitted on the shape grid; the three best, and every
    split whose grid RSS is within a factor exp(near) of the best, are refined.
    """
    n = len(y)
    grid_rss = {}
    for j in range(min_segment, n - min_segment + 1):
        grid_rss[j] = _fit_smooth(EXPONENTIAL, x[:j], y[:j], refine=False)[1] + _fit_smooth(EXPONENTIAL, x[j:], y[j:], refine=False)[1]
    order = sorted(grid_rss, key=grid_rss.get)
    refined: dict[int, tuple[np.ndarray, float]] = {}

    def refine(j: int) -> None:
        t1, r1, _ = _fit_smooth(EXPONENTIAL, x[:j], y[:j])
        t2, r2, _ = _fit_smooth(EXPONENTIAL, x[j:], y[j:])
        refined[j] = (np.array([t1[0], t1[1], t2[0], t2[1], x[j]]), min(r1 + r2, grid_rss[j]))

    for j in order[:3]:
        refine(j)
    best = min(refined, key=lambda j: refined[j][1])
    if near > 0:
        for j in order:
            if j not in refined and grid_rss[j] <= refined[best][1] * np.exp(near):
                refine(j)
        best = min(refined, key=lambda j: refined[j][1])
    per_split = [(j, refined[j][1] if j in refined else grid_rss[j]) for j in sorted(grid_rss)]
    return refined[best][0], float(refined[best][1]), per_split


def fit_piecewise(x, y, *, level: float = 0.95, min_segment: int = 4) -> FormFit:
    """Two-segment exponential, split chosen by likelihood (each segment >= ``min_segment`` layers).

    The split ``s`` is the first layer of the second segment; its interval is
    the profile-likelihood set of splits (see module docstring).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(y)
    crit = float(stats.chi2.ppf(level, 1))
    theta, rss, per_split = _piecewise_search(x, y, min_segment, near=2.0 * crit / n)
    j = int(np.searchsorted(x, theta[4]))
    p = len(PIECEWISE_PARAMS)
    s2_df = n - p
    tq = float(stats.t.ppf(0.5 + level / 2.0, s2_df))
    se = [None] * p
    notes = ["segment-parameter CIs are conditional on the chosen split"]
    for seg, sl in ((0, slice(0, j)), (1, slice(j, n))):
        jac = EXPONENTIAL.jacobian(x[sl], theta[2 * seg:2 * seg + 2])
        jtj = jac.T @ jac
        if np.all(np.isfinite(jtj)) and np.linalg.cond(jtj) < 1e14:
            d = np.sqrt(np.clip(np.diag(rss / s2_df * np.linalg.pinv(jtj)), 0.0, None))
            se[2 * seg], se[2 * seg + 1] = float(d[0]), float(d[1])
        else:
            notes.append(f"segment {seg + 1}: J^T J singular; no CIs for its parameters")
    fit = _make_fit(PIECEWISE, PIECEWISE_FORMULA, PIECEWISE_PARAMS, theta, se, tq, x, y, rss, p + 1, level, notes, "wald")
    ll_best = fit.log_likelihood
    inside = [x[jj] for jj, r in per_split if 2.0 * (ll_best - _loglik(r, n, y)) <= crit]
    split = fit.params[4]
    fit.params[4] = ParamEstimate("s", split.value, None, float(min(inside)), float(max(inside)))
    fit.notes.append(f"split interval: profile-likelihood set at chi2_1({level}) over {len(per_split)} candidate splits")
    return fit


def _bootstrap(name: str, fit: FormFit, x, y, *, level: float, n_boot: int, seed: int, min_segment: int) -> FormFit:
    """Residual-bootstrap percentile CIs for ``fit`` (refit every replicate)."""
    rng = np.random.default_rng(seed)
    n, p = len(y), N_MEAN_PARAMS[name]
    yhat = np.asarray(fit.fitted)
    r = (y - yhat) * np.sqrt(n / (n - p))
    r = r - r.mean()
    draws = np.empty((n_boot, p))
    for b in range(n_boot):
        yb = yhat + rng.choice(r, size=n, replace=True)
        if name == PIECEWISE:
            draws[b] = _piecewise_search(x, yb, min_segment)[0]
        else:
            draws[b] = _fit_smooth(SMOOTH_FORMS[name], x, yb)[0]
    lo, hi = np.percentile(draws, [50 * (1 - level), 50 * (1 + level)], axis=0)
    sd = draws.std(axis=0, ddof=1)
    params = [ParamEstimate(pe.name, pe.value, float(sd[i]), float(lo[i]), float(hi[i])) for i, pe in enumerate(fit.params)]
    notes = [m for m in fit.notes if "conditional" not in m and "split interval" not in m]
    notes.append(f"residual bootstrap: {n_boot} replicates, seed {seed}, percentile intervals")
    return replace(fit, params=params, ci_method="bootstrap", notes=notes)


def _weights(values: dict[str, float]) -> dict[str, float]:
    best = min(values.values())
    raw = {k: float(np.exp(-0.5 * (v - best))) for k, v in values.items()}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def select_form(x, y, *, forms: tuple[str, ...] = ALL_FORMS, criterion: Criterion = "bic", level: float = 0.95,
                ci_method: CIMethod = "wald", n_boot: int = 200, seed: int = 0, min_segment: int = 4,
                split_sims: int = 0) -> Selection:
    """Fit every form to one trajectory and select one by an information criterion.

    Parameters
    ----------
    x : array of shape (n,)
        Layer indices (0-based; sorted ascending).
    y : array of shape (n,)
        The per-layer statistic (any unit; fits are in linear space).
    forms : forms to fit (default: all five).
    criterion : "bic" (default), "aic" or "aicc"; the selected form minimises it.
    level : CI level in (0, 1).
    ci_method : "wald" or "bootstrap" (residual bootstrap with ``n_boot`` replicates, ``seed``).
    min_segment : minimum layers per piecewise segment.
    split_sims : when > 0 and the piecewise form is selected, calibrate its searched split
        against the best smooth form with that many parametric-bootstrap curves
        (:func:`attnscope.trajectory.split_test.split_test`).

    Returns
    -------
    Selection
        Fits, Akaike weights (from AIC) and BIC weights over the fitted forms,
        the selected form, and the forms skipped for too few points.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ProtocolError("x and y must be 1-D arrays of the same length", field="y", value=list(y.shape))
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ProtocolError("trajectory values must be finite", field="y", value=y.tolist())
    if np.any(np.diff(x) <= 0):
        raise ProtocolError("layer indices must be strictly increasing", field="x", value=x.tolist())
    unknown = [f for f in forms if f not in ALL_FORMS]
    if unknown:
        raise ProtocolError(f"unknown form(s); known: {', '.join(ALL_FORMS)}", field="forms", value=unknown)
    if criterion not in ("bic", "aic", "aicc"):
        raise ProtocolError("criterion must be bic, aic or aicc", field="criterion", value=criterion)
    if not 0.0 < level < 1.0:
        raise ProtocolError("CI level must be in (0, 1)", field="level", value=level)
    n = len(y)
    if n >= min(N_MEAN_PARAMS[f] for f in forms) + 2 and np.ptp(y) == 0.0:
        return Selection(criterion, None, {}, {}, {}, {f: "constant trajectory" for f in forms}, n,
                         ["constant trajectory (e.g. untrained unit gains): nothing to fit"])
    fits, skipped = {}, {}
    for name in forms:
        p = N_MEAN_PARAMS[name]
        need = max(p + 2, 2 * min_segment + 1) if name == PIECEWISE else p + 2
        if n < need:
            skipped[name] = f"needs >= {need} layers, have {n}"
            continue
        fit = fit_piecewise(x, y, level=level, min_segment=min_segment) if name == PIECEWISE else fit_smooth(name, x, y, level=level)
        if ci_method == "bootstrap":
            fit = _bootstrap(name, fit, x, y, level=level, n_boot=n_boot, seed=seed, min_segment=min_segment)
        fits[name] = fit
    if not fits:
        return Selection(criterion, None, {}, {}, {}, skipped, n, ["too few layers to fit any form"])
    score = {k: (f.aicc if criterion == "aicc" and f.aicc is not None else f.aic if criterion != "bic" else f.bic) for k, f in fits.items()}
    notes = []
    if criterion == "aicc" and any(f.aicc is None for f in fits.values()):
        notes.append("AICc undefined (n - k - 1 <= 0) for some forms; AIC used for them")
    best = min(score, key=score.get)
    competitive = sorted((k for k in score if score[k] - score[best] <= 2.0), key=score.get)
    if len(competitive) > 1:
        notes.append(f"{', '.join(competitive)} are within 2 {criterion.upper()} units: not clearly distinguishable")
    test = None
    smooth = [k for k in score if k != PIECEWISE]
    if split_sims > 0 and best == PIECEWISE and smooth:
        from attnscope.trajectory.split_test import split_test

        test = split_test(x, y, smooth_form=min(smooth, key=score.get), criterion=criterion, n_sim=split_sims,
                          seed=seed, min_segment=min_segment)
        if test.p_value > 0.05:
            notes.append(f"the piecewise split is not significant against {test.smooth_form} (parametric bootstrap "
                         f"p = {test.p_value:.2f}, {split_sims} curves): smooth data of this noise produce such breaks")
    return Selection(criterion, best, fits, _weights({k: f.aic for k, f in fits.items()}),
                     _weights({k: f.bic for k, f in fits.items()}), skipped, n, notes, competitive, test)
