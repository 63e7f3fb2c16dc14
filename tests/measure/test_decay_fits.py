"""OLS fits: the batched estimator agrees with the scalar one; the published taf-e4 null."""
import numpy as np
import pytest

from attnscope.errors import ProtocolError
from attnscope.measure.fits import fit_exp_ols, fit_power_ols, fit_power_ols_batch, uniform_null_taf_e4

GRID = np.array([10, 20, 30, 50, 100, 200, 500, 1000, 2000])


def test_batch_matches_scalar_fit():
    rng = np.random.default_rng(0)
    curves = 2.0 * GRID ** -rng.uniform(0.1, 1.5, (5, 1)) * np.exp(rng.normal(0, 0.1, (5, len(GRID))))
    batch = fit_power_ols_batch(GRID, curves, d_min=30)
    for k, c in enumerate(curves):
        one = fit_power_ols(GRID, c, d_min=30)
        assert batch.gamma[k] == pytest.approx(-one.slope, abs=1e-12)
        assert batch.log_A[k] == pytest.approx(one.intercept, abs=1e-12)
        assert batch.R2[k] == pytest.approx(one.R2, abs=1e-12)
        assert batch.n_points[k] == one.n_points == 7


def test_planted_exponent_exact_without_noise():
    fit = fit_power_ols_batch(GRID, 0.3 * GRID ** -0.65)
    assert fit.gamma == pytest.approx(0.65, abs=1e-12) and fit.R2 == pytest.approx(1.0)


def test_flat_curve_gamma_zero_and_r2_undefined():
    fit = fit_power_ols_batch(GRID, np.full(len(GRID), 0.01))
    assert abs(fit.gamma) < 1e-12 and np.isnan(fit.R2)


def test_bad_points_dropped_per_curve():
    a = np.stack([GRID ** -0.5, GRID ** -0.5])
    a[1, 3] = 0.0  # no logarithm: dropped in that curve only
    fit = fit_power_ols_batch(GRID, a)
    assert list(fit.n_points) == [7, 6]
    assert fit.gamma == pytest.approx([0.5, 0.5])


def test_published_uniform_null_of_taf_e4():
    """Uniform attention alone fits gamma ~ 0.783 with R^2 ~ 0.988 on the published grid (PROTOCOL.md)."""
    fit = fit_power_ols(GRID, uniform_null_taf_e4(GRID), d_min=30)
    assert -fit.slope == pytest.approx(0.783, abs=5e-4)
    assert fit.R2 == pytest.approx(0.988, abs=5e-4)


def test_exponential_fit_recovers_rate():
    fit = fit_exp_ols(GRID, np.exp(-0.002 * GRID))
    assert -fit.slope == pytest.approx(0.002)


def test_shape_mismatch_is_protocol_error():
    with pytest.raises(ProtocolError, match="last axis"):
        fit_power_ols_batch(GRID, np.ones((2, 3)))
