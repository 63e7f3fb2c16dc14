"""MLE on normalised rows: planted exponents and rates are recovered; the LLR picks the true law."""
import numpy as np
import pytest

from attnscope.errors import ProtocolError
from attnscope.measure.mle import fit_rows_mle, row_statistics, window_grid
from attnscope.measure.nulls import uniform_window_stats

D_MIN, D_MAX = 30, 700


def _power_rows(gamma):
    d = window_grid(D_MIN, D_MAX)
    return d ** -np.asarray(gamma, dtype=float)[..., None]


@pytest.mark.parametrize("gamma", [-0.4, 0.0, 0.137, 0.777, 1.0, 2.31])
def test_planted_power_law_recovered(gamma):
    _, mld, md = row_statistics(_power_rows(gamma), D_MIN, D_MAX)
    fit = fit_rows_mle(mld, md, d_min=D_MIN, d_max=D_MAX)
    assert fit.gamma == pytest.approx(gamma, abs=1e-6)
    assert not fit.at_bound
    if gamma != 0.0:
        assert fit.llr > 0  # the power law beats the geometric law on power-law rows


@pytest.mark.parametrize("lam", [-0.002, 0.001, 0.01, 0.05])
def test_planted_geometric_rate_recovered(lam):
    d = window_grid(D_MIN, D_MAX)
    _, mld, md = row_statistics(np.exp(-lam * d), D_MIN, D_MAX)
    fit = fit_rows_mle(mld, md, d_min=D_MIN, d_max=D_MAX)
    assert fit.lam == pytest.approx(lam, rel=1e-8)
    assert fit.llr < 0  # geometric rows favour the geometric law


def test_uniform_rows_give_zero():
    ul, ud = uniform_window_stats(D_MIN, D_MAX)
    fit = fit_rows_mle(ul, ud, d_min=D_MIN, d_max=D_MAX)
    assert fit.gamma == pytest.approx(0.0, abs=1e-9) and fit.lam == pytest.approx(0.0, abs=1e-12)
    assert fit.llr == pytest.approx(0.0, abs=1e-9)


def test_cross_entropy_is_minimal_at_the_fit():
    """The fitted gamma minimises -sum p log q over a brute-force grid (not just a moment match)."""
    d = window_grid(D_MIN, D_MAX)
    rng = np.random.default_rng(3)
    p = d ** -0.6 * np.exp(rng.normal(0, 0.3, d.size))
    p /= p.sum()
    _, mld, md = row_statistics(p, D_MIN, D_MAX)
    fit = fit_rows_mle(mld, md, d_min=D_MIN, d_max=D_MAX)
    gammas = np.linspace(0.3, 0.9, 6001)
    q = d[None, :] ** -gammas[:, None]
    q /= q.sum(1, keepdims=True)
    ce = -(p * np.log(q)).sum(1)
    assert fit.gamma == pytest.approx(gammas[ce.argmin()], abs=2e-4)
    assert fit.ce_pow == pytest.approx(ce.min(), abs=1e-7)


def test_vectorised_over_units():
    g = np.array([[0.2, 0.5], [0.9, 1.3]])
    _, mld, md = row_statistics(_power_rows(g), D_MIN, D_MAX)
    fit = fit_rows_mle(mld, md, d_min=D_MIN, d_max=D_MAX)
    assert fit.gamma.shape == (2, 2)
    assert fit.gamma == pytest.approx(g, abs=1e-6)


def test_bad_window():
    with pytest.raises(ProtocolError):
        window_grid(30, 30)
    with pytest.raises(ProtocolError, match="every distance"):
        row_statistics(np.ones(5), D_MIN, D_MAX)
