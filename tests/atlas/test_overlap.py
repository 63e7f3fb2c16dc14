"""Subspace overlaps, the random-subspace null, and the basis-invariance argument."""
import numpy as np
import pytest

from attnscope.atlas.analysis import analyse_layer
from attnscope.atlas.overlap import principal_cosines, random_subspace_null, subspace_basis
from attnscope.errors import ProtocolError


@pytest.mark.parametrize("n, expected", [(64, 0.280), (128, 0.196)])
def test_null_matches_published_random_subspace_values(n, expected):
    null = random_subspace_null(7, n, 4, n_draws=300, seed=0)
    assert null.mean_cos == pytest.approx(expected, abs=0.006)
    assert null.mean_cos2 == pytest.approx(7 / n)
    assert null.mean_cos_q025 < null.mean_cos < null.mean_cos_q975


def test_principal_cosines_identity_and_orthogonal():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((10, 6)))[0]
    assert np.allclose(principal_cosines(Q[:, :3], Q[:, :3]), 1)
    assert np.allclose(principal_cosines(Q[:, :3], Q[:, 3:]), 0, atol=1e-12)


def test_subspace_basis_finds_planted_plane():
    rng = np.random.default_rng(0)
    P = np.linalg.qr(rng.standard_normal((20, 2)))[0]
    X = rng.standard_normal((500, 2)) * [5, 3] @ P.T + 0.01 * rng.standard_normal((500, 20))
    assert principal_cosines(subspace_basis(X, 2), P).min() > 0.999


def _shared_write_heads(rng, N=800, H=4, dh=16, dm=64, r=4):
    """Heads whose residual writes share one r-dim subspace while their head coordinates are unrelated."""
    base = rng.standard_normal((N, r)) * np.linspace(3, 1, r)
    C = rng.standard_normal((r, dm))
    z, W = [], []
    for _ in range(H):
        A = rng.standard_normal((r, dh))  # head-specific coordinates
        z.append(base @ A + 1e-3 * rng.standard_normal((N, dh)))
        W.append(np.linalg.pinv(A) @ C)  # W_O^h maps the head's coordinates back onto the shared write
    return np.stack(z, 1), np.stack(W)


def test_heads_sharing_a_write_subspace_are_far_above_null_in_residual_space_only():
    rng = np.random.default_rng(3)
    z, W = _shared_write_heads(rng)
    pid = np.repeat(np.arange(8), 100)
    head, resid = analyse_layer(z, pid, W_O=W, k=4, n_boot=40, null_draws=100, dims=False)
    assert resid.overlap.verdict == "above the random-subspace null"
    assert resid.overlap.mean > 0.95 and resid.overlap.ci95[0] > resid.overlap.null_q975
    assert head.overlap.verdict == "indistinguishable from null"


def test_independent_random_heads_are_indistinguishable_in_residual_space():
    rng = np.random.default_rng(4)
    N, H, dh, dm = 400, 4, 16, 64
    z = rng.standard_normal((N, H, dh))
    W = rng.standard_normal((H, dh, dm))
    pid = np.repeat(np.arange(8), 50)
    head, resid = analyse_layer(z, pid, W_O=W, k=4, n_boot=30, null_draws=60, dims=False, n_kv_heads=2)
    assert resid.overlap.verdict == "indistinguishable from null"
    assert abs(resid.overlap.excess) < 3 * (resid.overlap.null_q975 - resid.overlap.null_q025)
    assert resid.overlap.intra_group_mean is not None and resid.overlap.inter_group_mean is not None


def test_bad_k_and_heads():
    z = np.zeros((100, 4, 8))
    with pytest.raises(ProtocolError, match="k must be in"):
        analyse_layer(z, np.zeros(100), k=9)
    with pytest.raises(ProtocolError, match="at least 2 heads"):
        analyse_layer(np.zeros((100, 1, 8)), np.zeros(100), k=2)


def test_bootstrap_moments_give_the_same_subspaces_as_the_points():
    """Bases from per-prompt moments (used by the bootstrap) equal the SVD bases of the points."""
    from attnscope.atlas.analysis import _PromptMoments, residual_space

    rng = np.random.default_rng(5)
    z = rng.standard_normal((300, 3, 8)) * np.linspace(4, 0.5, 8)
    W = rng.standard_normal((3, 8, 20))
    pid = np.repeat(np.arange(6), 50)
    cloud = residual_space(z, W)
    got = _PromptMoments(cloud, pid).bases(np.ones(6), 3)
    for X, M, B in zip(cloud.coords, cloud.to_ambient, got):
        assert principal_cosines(B, M.T @ subspace_basis(X, 3)).min() > 1 - 1e-9
    # a resample with prompt 0 drawn twice and prompt 5 never equals the duplicated point cloud
    w = np.array([2, 1, 1, 1, 1, 0], dtype=float)
    rows = np.concatenate([np.arange(0, 50), np.arange(0, 250)])
    got_w = _PromptMoments(cloud, pid).bases(w, 3)
    for X, M, B in zip(cloud.coords, cloud.to_ambient, got_w):
        assert principal_cosines(B, M.T @ subspace_basis(X[rows], 3)).min() > 1 - 1e-9
