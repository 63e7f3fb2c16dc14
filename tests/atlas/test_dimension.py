"""Intrinsic-dimension estimators recover planted dimensions (within ±10%)."""
import numpy as np
import pytest

from attnscope.atlas.dimension import levina_bickel, participation_ratio, pca_rank, twonn
from attnscope.errors import ProtocolError


def _linear(rng, n, d, ambient):
    Q = np.linalg.qr(rng.standard_normal((ambient, d)))[0]
    return rng.standard_normal((n, d)) @ Q.T


def _swiss_roll(rng, n):
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    h = 21 * rng.random(n)
    return np.c_[t * np.cos(t), h, t * np.sin(t)]


def _sphere(rng, n, d):  # the d-sphere in R^{d+1}
    v = rng.standard_normal((n, d + 1))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize(
    "make, true_d",
    [
        (lambda r: _linear(r, 1500, 7, 64), 7),
        (lambda r: _linear(r, 1500, 3, 16), 3),
        (lambda r: _swiss_roll(r, 2000), 2),
        (lambda r: _sphere(r, 2000, 2), 2),
        (lambda r: _sphere(r, 2000, 4), 4),
    ],
)
def test_estimators_recover_planted_dimension(make, true_d):
    X = make(np.random.default_rng(0))
    res = twonn(X)
    for est in (res.d_lsq, res.d_mle, levina_bickel(X).d):
        assert abs(est - true_d) <= 0.1 * true_d, (est, true_d)


def test_published_atlas_variant_overstates_but_ours_does_not():
    """The ATLAS variant n_kept / sum(log mu) on the lowest 90% reads ~9.3 on a 7-D cloud."""
    from scipy.spatial import cKDTree

    X = np.random.default_rng(0).standard_normal((1200, 7))
    d, _ = cKDTree(X).query(X, k=3)
    mu = np.sort(d[:, 2] / d[:, 1])
    keep = int(0.9 * len(mu))
    atlas_variant = keep / np.log(mu[:keep]).sum()
    assert atlas_variant > 8.5
    assert abs(twonn(X).d_lsq - 7) < 0.5 and abs(twonn(X).d_mle - 7) < 0.5


def test_duplicates_are_removed_and_counted():
    X = np.random.default_rng(1).standard_normal((500, 5))
    Xd = np.vstack([X, X[:50]])
    a, b = twonn(X), twonn(Xd)
    assert b.n_duplicates == 50 and b.n_points == 500
    assert a.d_lsq == pytest.approx(b.d_lsq)


def test_pca_rank_and_participation_ratio():
    rng = np.random.default_rng(2)
    scales = np.array([10, 10, 10, 0.01, 0.01])
    X = rng.standard_normal((4000, 5)) * scales
    assert pca_rank(X, variance=0.9) == 3
    assert participation_ratio(X) == pytest.approx(3.0, rel=0.05)


def test_too_few_points_is_a_one_line_error():
    with pytest.raises(ProtocolError, match="too few distinct points"):
        twonn(np.zeros((50, 3)))
    with pytest.raises(ProtocolError, match="k1"):
        levina_bickel(np.random.default_rng(0).standard_normal((100, 3)), k1=5, k2=3)
