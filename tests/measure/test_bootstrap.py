"""Cluster bootstrap: coverage on synthetic prompts, clusters not fit points, BCa/percentile choice."""
import numpy as np
import pytest

from attnscope.errors import ProtocolError
from attnscope.measure.analysis import PromptStats, analyze
from attnscope.measure.bootstrap import cluster_bootstrap, weighted_mean
from attnscope.measure.mle import row_statistics, window_grid
from attnscope.measure.nulls import VERDICT_FASTER

D = np.array([10, 20, 30, 50, 100, 200])


def synthetic(rng, *, P=20, L=1, H=2, gamma=0.6, prompt_sd=0.3, point_sd=0.1, window=None):
    """Prompts whose expected curve is exactly c d^-gamma (multiplicative noise independent of d)."""
    noise = np.exp(rng.normal(0, prompt_sd, (P, L, H, 1)) + rng.normal(0, point_sd, (P, L, H, len(D))))
    A = 0.2 * D ** -gamma * noise
    null = np.full((P, L, len(D)), 1 / 230.0)
    sink = rng.uniform(0.2, 0.4, (P, L, H))
    mld = md = None
    if window is not None:
        grid = window_grid(*window)
        p = grid ** -gamma * np.exp(rng.normal(0, 0.2, (P, L, H, 1)) * np.log(grid) / 5)
        _, mld, md = row_statistics(p, *window)
    return PromptStats(D, A, null, sink, mld, md, window)


def test_coverage_of_planted_gamma():
    """>= 85 % of 100 independent synthetic experiments cover the planted gamma with their 95 % CI."""
    rng = np.random.default_rng(12345)
    cover = 0
    for rep in range(100):
        res = analyze(synthetic(rng), d_min=30, n_boot=200, seed=rep, per_head=False)
        cover += res.gamma.lo <= 0.6 <= res.gamma.hi
    assert cover >= 85, cover


def test_planted_gamma_recovered_within_ci_everywhere():
    rng = np.random.default_rng(7)
    res = analyze(synthetic(rng, P=30, L=2, H=3, window=(30, 200)), d_min=30, n_boot=300, seed=0, per_head=True)
    assert res.gamma.lo <= 0.6 <= res.gamma.hi
    assert res.verdict == VERDICT_FASTER and res.excess.lo > 0
    assert all(u.lo <= 0.6 <= u.hi for u in res.layer_gamma)
    assert sum(h.lo <= 0.6 <= h.hi for row in res.head_gamma for h in row) >= 5  # 6 heads, 95 % each
    assert res.mle_gamma.lo < 0.6 + 0.05 and res.mle_gamma.hi > 0.6 - 0.05
    assert res.mle_llr.value > 0


def test_bootstrap_is_over_prompts_not_fit_points():
    """Identical prompts with a scattered curve: resampling prompts gives a zero-width CI.

    Bootstrapping the fit points would give a wide one (the residual scatter).
    """
    rng = np.random.default_rng(0)
    curve = 0.2 * D ** -0.6 * np.exp(rng.normal(0, 0.3, len(D)))
    A = np.broadcast_to(curve, (12, 1, 1, len(D))).copy()
    st = PromptStats(D, A, np.full((12, 1, len(D)), 0.01), np.full((12, 1, 1), 0.3))
    res = analyze(st, d_min=10, n_boot=200, seed=0, per_head=False)
    assert res.gamma.hi - res.gamma.lo < 1e-9
    assert res.R2 < 0.99  # the points really are scattered


def test_deterministic_under_seed_and_method_recorded():
    rng = np.random.default_rng(1)
    st = synthetic(rng, P=12)
    a = analyze(st, d_min=30, n_boot=200, seed=5, per_head=False)
    b = analyze(st, d_min=30, n_boot=200, seed=5, per_head=False)
    assert (a.gamma.lo, a.gamma.hi) == (b.gamma.lo, b.gamma.hi)
    assert a.gamma.method == "bca"  # 12 prompts, a smooth statistic: BCa is stable
    few = analyze(synthetic(rng, P=6), d_min=30, n_boot=200, seed=5, per_head=False)
    assert few.gamma.method == "percentile"  # too few clusters for the jackknife


def test_constant_statistic_falls_back_to_percentile():
    res = cluster_bootstrap(lambda w: np.ones((w.shape[0], 1)), 15, n_boot=50, rng=np.random.default_rng(0))
    assert res.method[0] == "percentile" and res.lo[0] == res.hi[0] == 1.0


def test_mean_ci_covers_and_narrows_with_more_prompts():
    rng = np.random.default_rng(2)
    x_small, x_big = rng.normal(5, 1, 10), rng.normal(5, 1, 200)
    stat = lambda x: (lambda w: weighted_mean(w, x)[:, None])  # noqa: E731
    small = cluster_bootstrap(stat(x_small), 10, n_boot=400, rng=np.random.default_rng(0))
    big = cluster_bootstrap(stat(x_big), 200, n_boot=400, rng=np.random.default_rng(0))
    assert small.lo[0] < x_small.mean() < small.hi[0]
    assert (big.hi - big.lo)[0] < (small.hi - small.lo)[0]


def test_bad_arguments():
    with pytest.raises(ProtocolError, match="at least 2 prompts"):
        cluster_bootstrap(lambda w: w, 1, n_boot=100, rng=np.random.default_rng(0))
    with pytest.raises(ProtocolError, match="n_boot"):
        cluster_bootstrap(lambda w: w, 5, n_boot=3, rng=np.random.default_rng(0))
