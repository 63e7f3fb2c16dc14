"""The reference panel in the report: load it, turn records into phase-diagram points, place models.

The panel is the packaged TAF data (``attnscope.dataset``), derived from
``karlesmarin/tafagent`` (Apache-2.0, Copyright 2026 Carles Marin): :data:`ATTRIBUTION`
must be shown wherever its points are. Pure functions except :func:`load_reference_panel`.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from attnscope.errors import AttnscopeError
from attnscope.records import MeasurementRecord

ATTRIBUTION = ("Reference-panel data: karlesmarin/tafagent data/ (https://github.com/karlesmarin/tafagent), "
               "Apache-2.0, Copyright 2026 Carles Marin; 'Predicting How Transformers Attend' (Marin 2026, "
               "DOI 10.5281/zenodo.19826343). Converted to attnscope records; see the packaged NOTICE.")
NEAREST = 6


@dataclass(frozen=True)
class PanelPoint:
    """One measured (model, corpus) of the reference panel or of the report's own records."""

    label: str
    theta: float
    gamma: Optional[float]
    lo: Optional[float]
    hi: Optional[float]
    T: Optional[int]
    corpus: Optional[str]
    protocol: Optional[str]
    gamma_pade: Optional[float] = None
    key: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class PanelView:
    """Everything the panel section shows."""

    points: list[PanelPoint] = field(default_factory=list)
    excluded: Counter = field(default_factory=Counter)  # reason -> count
    n_records: int = 0
    note: Optional[str] = None  # why the panel is unavailable, if it is


def _measurements(data: Any) -> list[MeasurementRecord]:
    """Duck-typed: a list of records (or dicts), or an object / dict holding ``measurements``."""
    if data is None:
        return []
    if hasattr(data, "measurements"):
        data = data.measurements
    elif isinstance(data, dict) and "measurements" in data:
        data = data["measurements"]
    out = []
    for r in data:
        if isinstance(r, MeasurementRecord):
            out.append(r)
        elif isinstance(r, dict) and r.get("kind") == "measurement":
            out.append(MeasurementRecord.model_validate(r))
    return out


def load_reference_panel() -> tuple[list[MeasurementRecord], Optional[str], Optional[Callable]]:
    """The packaged panel's measurement records and its clean-record rule, or ``([], reason, None)``."""
    try:
        from attnscope.dataset.load import is_clean, load_panel  # the DATASET area's loader
    except ImportError as exc:
        return [], f"the packaged reference panel is not available in this install ({exc})", None
    try:
        return _measurements(load_panel("measurement")), None, is_clean
    except AttnscopeError as exc:
        return [], f"the packaged reference panel could not be loaded: {exc.one_line()}", None


def theta_of(arch: Optional[dict[str, Any]]) -> Optional[float]:
    """The full-attention RoPE θ of an arch dict (None for non-RoPE models or unknown θ)."""
    if not arch or arch.get("position_encoding") not in (None, "rope"):
        return None
    th = arch.get("rope_theta")
    return float(th) if isinstance(th, (int, float)) and th > 0 else None


def point_of(rec: MeasurementRecord) -> tuple[Optional[PanelPoint], Optional[str]]:
    """A phase-diagram point from a measurement record, or (None, reason it cannot be placed)."""
    th = theta_of(rec.arch)
    m = rec.measurement
    if th is None:
        return None, "no RoPE θ"
    if m.gamma is None or not math.isfinite(m.gamma):
        return None, "no γ"
    label = rec.model_id + (" (random init)" if m.random_init else "")
    return PanelPoint(label=label, theta=th, gamma=m.gamma, lo=m.gamma_ci95_lo, hi=m.gamma_ci95_hi, T=m.T_eval,
                      corpus=m.corpus, protocol=m.protocol, gamma_pade=rec.predictions.gamma_pade, key=rec.key), None


def panel_view(records: Iterable[MeasurementRecord], *, note: Optional[str] = None,
               is_clean: Optional[Callable[[MeasurementRecord], bool]] = None) -> PanelView:
    """Points of the clean panel records; defective or unplaceable records are counted by reason.

    ``is_clean`` decides which quality flags are defects (the DATASET area's rule,
    :func:`attnscope.dataset.load.is_clean`); without it any flag excludes a record.
    """
    view = PanelView(note=note)
    for rec in records:
        view.n_records += 1
        if not (is_clean(rec) if is_clean is not None else not rec.quality):
            view.excluded["quality flags " + ", ".join(_defects(rec, is_clean))] += 1
            continue
        p, why = point_of(rec)
        if p is None:
            view.excluded[why] += 1
        else:
            view.points.append(p)
    return view


def _defects(rec: MeasurementRecord, is_clean: Optional[Callable[[MeasurementRecord], bool]]) -> list[str]:
    """The flags that exclude a record on their own (all flags without an ``is_clean`` rule)."""
    flags = sorted({q.split(":")[0] for q in rec.quality})
    if is_clean is None:
        return flags
    bad = [f for f in flags if not is_clean(rec.model_copy(update={"quality": [f]}))]
    return bad or flags  # only their combination is a defect


def nearest(points: list[PanelPoint], theta: float, corpus: Optional[str], T: Optional[float] = None,
            k: int = NEAREST) -> list[PanelPoint]:
    """The k panel points closest in log10 θ, ties broken by closeness in log T (same corpus when given)."""
    pool = [p for p in points if corpus is None or p.corpus == corpus] or points

    def dist(p: PanelPoint) -> tuple:
        dT = abs(math.log10(p.T) - math.log10(T)) if T and p.T else math.inf
        return (round(abs(math.log10(p.theta) - math.log10(theta)), 6), dT, p.label)

    return sorted(pool, key=dist)[:k]


def rank_fraction(points: list[PanelPoint], gamma: float, corpus: Optional[str]) -> Optional[tuple[float, int]]:
    """Fraction of panel points (same corpus) with a smaller measured γ, and the pool size."""
    pool = [p.gamma for p in points if p.gamma is not None and (corpus is None or p.corpus == corpus)]
    if not pool:
        return None
    return sum(g < gamma for g in pool) / len(pool), len(pool)


def curve_T_values(panel: list[PanelPoint], mine: list[dict[str, Any]], max_curves: int = 3) -> list[float]:
    """Contexts for the Padé curves: the panel's most common T_eval, then the report's own T values."""
    out: list[float] = []
    common = Counter(p.T for p in panel if p.T).most_common(1)
    candidates = [float(common[0][0])] if common else []
    candidates += [float(m["T"]) for m in mine if m.get("T")]
    for T in candidates:  # curves for contexts within 5% of one another coincide: draw one
        if all(abs(math.log(T / t)) > 0.05 for t in out):
            out.append(T)
    return out[:max_curves]
