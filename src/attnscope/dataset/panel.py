"""Flatten measurement records into panel rows (one per model and corpus) for scoring and comparison."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from attnscope.dataset.load import is_clean


@dataclass(frozen=True)
class Row:
    """What the scorecard needs from one record.

    ``gamma_seed_ci`` is the seed-cluster bootstrap interval (exact, 27 resamples for 3
    seeds) when per-seed data exist; ``gamma_seeds`` are the resampled gammas behind it.
    """

    key: str
    model_id: str
    family: str
    corpus: str
    gamma: float
    T_eval: int
    d_max: int
    theta: Optional[float]
    position_encoding: Optional[str]
    n_params: Optional[float]
    is_instruct: Optional[bool]
    R2: Optional[float]
    exp_R2: Optional[float]
    gamma_ci_published: Optional[tuple[float, float]]
    gamma_seed_ci: Optional[tuple[float, float]]
    gamma_seeds: Optional[tuple[float, ...]]
    gamma_uniform: Optional[float]
    clean: bool
    quality: tuple[str, ...] = field(default=())
    kind: str = "main"  # main | kaggle | partial | instruct_pair
    n_heads: Optional[int] = None
    n_kv_heads: Optional[int] = None
    sliding_window: Optional[int] = None
    T_train: Optional[int] = None

    @property
    def rope(self) -> bool:
        return self.position_encoding == "rope" and self.theta is not None and self.theta > 0


def _kind(q: list[str]) -> str:
    for prefix, name in (("kaggle_rerun", "kaggle"), ("partial", "partial"), ("instruct_pair", "instruct_pair"),
                         ("layerwise", "layerwise")):
        if any(f.startswith(prefix) for f in q):
            return name
    return "main"


def record_row(rec) -> Optional[Row]:
    """A panel row for a measurement record with a headline gamma; None otherwise."""
    from attnscope.dataset.rederive import seed_cluster_gammas

    m = rec.measurement
    if m.gamma is None or not math.isfinite(m.gamma):
        return None
    a = rec.arch or {}
    n_params = a.get("n_params_M")
    seeds = None
    seed_ci = None
    if m.curve is not None and m.curve.A_per_seed is not None and m.fit is not None and len(m.seeds) >= 2:
        import numpy as np

        g = seed_cluster_gammas(m.curve.distances, m.curve.A_per_seed, d_min=m.fit.d_min)
        seeds = tuple(float(x) for x in g)
        lo, hi = np.percentile(g, [2.5, 97.5])
        seed_ci = (float(lo), float(hi))
    pub = None
    if m.gamma_ci95_lo is not None and m.gamma_ci95_hi is not None:
        pub = (m.gamma_ci95_lo, m.gamma_ci95_hi)
    return Row(
        key=rec.key, model_id=rec.model_id, family=a.get("family", "unknown"), corpus=m.corpus, gamma=float(m.gamma),
        T_eval=m.T_eval, d_max=max(m.distances) if m.distances else 0, theta=a.get("rope_theta"),
        position_encoding=a.get("position_encoding"), n_params=n_params * 1e6 if n_params else None,
        is_instruct=a.get("is_instruct"), R2=m.fit.R2 if m.fit else None,
        exp_R2=m.fit.exp_R2 if m.fit else None, gamma_ci_published=pub, gamma_seed_ci=seed_ci, gamma_seeds=seeds,
        gamma_uniform=m.null.gamma_uniform if m.null else None, clean=is_clean(rec), quality=tuple(rec.quality),
        kind=_kind(rec.quality), n_heads=a.get("n_heads"), n_kv_heads=a.get("n_kv_heads"),
        sliding_window=a.get("sliding_window"), T_train=a.get("T_train"),
    )


def panel_rows(records) -> list[Row]:
    """Rows of every measurement record with a gamma (all kinds; filter on ``kind`` / ``clean``)."""
    return [r for r in (record_row(x) for x in records) if r is not None]


def text_random_pairs(rows: list[Row], *, clean_only: bool) -> list[tuple[Row, Row]]:
    """(text, random) rows of the same model from the main e4 runs."""
    main = [r for r in rows if r.kind == "main" and (r.clean or not clean_only)]
    by = {(r.model_id, r.corpus): r for r in main}
    return [(by[(m, "text")], by[(m, "random")]) for m, c in sorted(by) if c == "text" and (m, "random") in by]
