"""One layer of the head atlas from collected head outputs: pure numpy.

Input: z of shape (n_tokens, n_heads, d_head), the prompt index of every token,
and optionally the output-projection slices W_O of shape (n_heads, d_head, d_model).

Two spaces:
- ``head``: the raw head output z_h in R^{d_head}. Its coordinates are defined only
  up to an invertible map that W_O absorbs, so cross-head comparisons there compare
  unrelated bases (kept for compatibility with ATLAS).
- ``residual``: the head's write z_h W_O^h in R^{d_model}, basis-invariant. With the
  thin SVD W_O^h = U S V^T, the write is (z_h U S) V^T: distances and principal
  subspaces are computed exactly in the d_head coordinates z_h U S and mapped to
  R^{d_model} through V, so no d_model-sized cloud is ever built.

Uncertainty: overlaps by percentile bootstrap over prompts (never over head pairs,
which are not independent); dimensions by delete-a-group jackknife over prompts
(bootstrap resamples duplicate points, which breaks nearest-neighbour estimators).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from attnscope.atlas.dimension import (
    levina_bickel_from_distances,
    neighbour_distances,
    participation_ratio,
    pca_rank,
    twonn_from_distances,
)
from attnscope.atlas.overlap import (
    SubspaceNull,
    overlap_matrices,
    overlap_verdict,
    pair_mean,
    random_subspace_null,
)
from attnscope.errors import ProtocolError


@dataclass(frozen=True)
class SpaceCloud:
    """Per-head point clouds in one space, and the maps of their bases to the ambient space."""

    name: str
    ambient_dim: int
    coords: list[np.ndarray]  # per head: (n_tokens, c_h)
    to_ambient: list[np.ndarray | None]  # per head: (c_h, ambient) orthonormal rows, or None (identity)


def head_space(z: np.ndarray) -> SpaceCloud:
    H = z.shape[1]
    return SpaceCloud("head", z.shape[2], [z[:, h, :].astype(np.float64) for h in range(H)], [None] * H)


def residual_space(z: np.ndarray, W_O: np.ndarray) -> SpaceCloud:
    H, d_head, d_model = W_O.shape
    coords, maps = [], []
    for h in range(H):
        U, S, Vt = np.linalg.svd(W_O[h], full_matrices=False)  # W = U S Vt; Vt: (r, d_model)
        coords.append(z[:, h, :].astype(np.float64) @ (U * S))
        maps.append(Vt)
    return SpaceCloud("residual", d_model, coords, maps)


def _top_k(cov: np.ndarray, k: int) -> np.ndarray:
    """Top-k eigenvectors (columns) of a symmetric covariance matrix."""
    _, vecs = np.linalg.eigh(cov)
    return vecs[:, ::-1][:, :k]


class _PromptMoments:
    """Per-prompt sums of x and x x^T of each head's cloud: any resample of prompts gives its
    covariance, hence its principal subspace, without touching the points again."""

    def __init__(self, cloud: SpaceCloud, prompt_ids: np.ndarray):
        self.prompts, inverse = np.unique(prompt_ids, return_inverse=True)
        P = len(self.prompts)
        self.count = np.bincount(inverse, minlength=P).astype(np.float64)  # (P,)
        onehot = np.zeros((P, len(prompt_ids)))
        onehot[inverse, np.arange(len(prompt_ids))] = 1.0
        self.s1 = [onehot @ X for X in cloud.coords]  # per head (P, c)
        self.s2 = [np.einsum("pn,ni,nj->pij", onehot, X, X, optimize=True) for X in cloud.coords]  # (P, c, c)
        self.maps = cloud.to_ambient

    def bases(self, weights: np.ndarray, k: int) -> list[np.ndarray]:
        """Orthonormal (ambient, k) bases of every head for prompt weights (bootstrap counts)."""
        n = float(weights @ self.count)
        out = []
        for s1, s2, M in zip(self.s1, self.s2, self.maps):
            mean = (weights @ s1) / n
            cov = (np.tensordot(weights, s2, axes=1) - n * np.outer(mean, mean)) / (n - 1)
            B = _top_k(cov, k)
            out.append(B if M is None else M.T @ B)
        return out


@dataclass(frozen=True)
class OverlapResult:
    mean: float
    mean_cos2: float
    ci95: tuple[float, float]
    null_mean: float
    null_q025: float
    null_q975: float
    null_cos2: float
    excess: float
    z_score: float
    verdict: str
    intra_group_mean: float | None
    inter_group_mean: float | None
    matrix: list[list[float]]
    matrix_cos2: list[list[float]]
    n_boot: int
    ci_method: str


@dataclass(frozen=True)
class DimEstimate:
    estimate: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class HeadDims:
    head: int
    twonn: DimEstimate
    twonn_mle: DimEstimate
    levina_bickel: DimEstimate
    pca_rank_90: int
    participation_ratio: float


@dataclass(frozen=True)
class SpaceResult:
    space: str
    ambient_dim: int
    overlap: OverlapResult
    dims: list[HeadDims] = field(default_factory=list)


def _group_masks(H: int, n_kv_heads: int | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    if not n_kv_heads or n_kv_heads >= H:
        return None, None
    size = H // n_kv_heads
    g = np.arange(H) // size
    intra = g[:, None] == g[None, :]
    return intra, ~intra


def _overlap(cloud: SpaceCloud, prompt_ids: np.ndarray, *, k: int, n_kv_heads, n_boot: int, rng, null: SubspaceNull):
    H = len(cloud.coords)
    moments = _PromptMoments(cloud, prompt_ids)
    P = len(moments.prompts)
    mc, mc2 = overlap_matrices(moments.bases(np.ones(P), k))
    intra, inter = _group_masks(H, n_kv_heads)
    boots = np.empty(n_boot)
    for b in range(n_boot):
        weights = np.bincount(rng.integers(0, P, P), minlength=P).astype(np.float64)
        boots[b] = pair_mean(overlap_matrices(moments.bases(weights, k))[0])
    lo, hi = (float(x) for x in np.quantile(boots, [0.025, 0.975]))
    mean = pair_mean(mc)
    return OverlapResult(
        mean=mean, mean_cos2=pair_mean(mc2), ci95=(lo, hi),
        null_mean=null.mean_cos, null_q025=null.mean_cos_q025, null_q975=null.mean_cos_q975, null_cos2=null.mean_cos2,
        excess=mean - null.mean_cos, z_score=(mean - null.mean_cos) / null.mean_cos_sd,
        verdict=overlap_verdict(lo, hi, null),
        intra_group_mean=None if intra is None else pair_mean(mc, intra),
        inter_group_mean=None if inter is None else pair_mean(mc, inter),
        matrix=mc.round(6).tolist(), matrix_cos2=mc2.round(6).tolist(), n_boot=n_boot,
        ci_method=f"percentile bootstrap over prompts (n_boot={n_boot})",
    )


def _jackknife(values_full: float, values_loo: np.ndarray) -> DimEstimate:
    G = len(values_loo)
    se = float(np.sqrt((G - 1) / G * np.sum((values_loo - values_loo.mean()) ** 2)))
    from scipy.stats import t as student_t

    q = float(student_t.ppf(0.975, G - 1))
    return DimEstimate(values_full, (values_full - q * se, values_full + q * se))


LB_K1, LB_K2 = 10, 20  # Levina-Bickel neighbourhood range
_MARGIN = 2  # extra neighbours fetched per removed-group share, so leave-one-group-out lists stay exact


def _subset_distances(dist: np.ndarray, idx: np.ndarray, group: np.ndarray, g: int, X: np.ndarray, m: int):
    """The m nearest-neighbour distances of every point outside group g, among points outside g.

    Filters the full-data neighbour lists (exact whenever m neighbours outside g remain in them);
    the few points whose list runs short are re-queried against the subset directly.
    """
    from scipy.spatial import cKDTree

    rows = np.flatnonzero(group != g)
    d, valid = dist[rows], group[idx[rows]] != g
    order = np.argsort(~valid, axis=1, kind="stable")  # valid neighbours first, in distance order
    out = np.take_along_axis(d, order, axis=1)[:, :m]
    short = valid.sum(axis=1) < m
    if short.any():
        sub = X[rows]
        out[short] = cKDTree(sub).query(sub[short], k=m + 1)[0][:, 1:]
    return out


def _dims(cloud: SpaceCloud, prompt_ids: np.ndarray, *, groups: int) -> list[HeadDims]:
    prompts = np.unique(prompt_ids)
    G = min(groups, len(prompts))
    if G < 2:
        raise ProtocolError("dimension CIs need at least 2 prompts", field="n_prompts", value=len(prompts))
    group_of_prompt = {p: i % G for i, p in enumerate(prompts)}
    token_group = np.array([group_of_prompt[p] for p in prompt_ids])
    K = _MARGIN * LB_K2
    out = []
    for h, X in enumerate(cloud.coords):
        dist, idx, keep, n_dup = neighbour_distances(X, K)
        Xu, group = X[keep], token_group[keep]
        full_t = twonn_from_distances(dist[:, 0], dist[:, 1], n_duplicates=n_dup)
        full_lb = levina_bickel_from_distances(dist, k1=LB_K1, k2=LB_K2)
        loo = []
        for g in range(G):
            sd = _subset_distances(dist, idx, group, g, Xu, LB_K2)
            t = twonn_from_distances(sd[:, 0], sd[:, 1])
            loo.append([t.d_lsq, t.d_mle, levina_bickel_from_distances(sd, k1=LB_K1, k2=LB_K2).d])
        loo = np.array(loo)
        out.append(HeadDims(
            head=h,
            twonn=_jackknife(full_t.d_lsq, loo[:, 0]),
            twonn_mle=_jackknife(full_t.d_mle, loo[:, 1]),
            levina_bickel=_jackknife(full_lb.d, loo[:, 2]),
            pca_rank_90=pca_rank(X),
            participation_ratio=participation_ratio(X),
        ))
    return out


def analyse_layer(
    z: np.ndarray,
    prompt_ids: np.ndarray,
    *,
    W_O: np.ndarray | None = None,
    k: int = 7,
    n_kv_heads: int | None = None,
    n_boot: int = 200,
    null_draws: int = 200,
    jackknife_groups: int = 10,
    dims: bool = True,
    seed: int = 0,
) -> list[SpaceResult]:
    """Overlap (with null) and dimensions of every head of one layer, in the head and residual spaces."""
    z = np.asarray(z)
    if z.ndim != 3:
        raise ProtocolError("expected z of shape (n_tokens, n_heads, d_head)", field="z.shape", value=z.shape)
    n_tok, H, d_head = z.shape
    if not 1 <= k <= d_head:
        raise ProtocolError(f"k must be in [1, d_head={d_head}]", field="k", value=k)
    if H < 2:
        raise ProtocolError("need at least 2 heads to compare", field="n_heads", value=H)
    rng = np.random.default_rng(seed)
    clouds = [head_space(z)] + ([residual_space(z, W_O)] if W_O is not None else [])
    results = []
    for cloud in clouds:
        null = random_subspace_null(k, cloud.ambient_dim, H, n_draws=null_draws, seed=seed)
        ov = _overlap(cloud, prompt_ids, k=k, n_kv_heads=n_kv_heads, n_boot=n_boot, rng=rng, null=null)
        results.append(SpaceResult(cloud.name, cloud.ambient_dim, ov, _dims(cloud, prompt_ids, groups=jackknife_groups) if dims else []))
    return results
