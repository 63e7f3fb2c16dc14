"""The γ-window: sinks + the last D_f(γ_l, N, f) tokens in layer l (TAF §26.7, recipe X-19).

D_f is the smallest window holding a fraction f of a power-law attention
profile d^−γ over distances 1..N (:func:`attnscope.theory.kv_window`, exact).
Here N = context − 1 (the distances the last query of the context can see) and
each layer keeps its sinks, its own key and the D_l = D_f(γ_l, N, f) previous
tokens: budget_l = n_sink + D_l + 1. With one γ for every layer (the Padé
prediction) this is a sink window whose size comes from theory instead of a
sweep; with a measured γ per layer the window differs by layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Union

from attnscope.errors import ProtocolError, RecordError
from attnscope.kv._params import check_sinks, gammas_per_layer
from attnscope.kv.base import KVPolicy
from attnscope.kv.sink_window import SinksAndRecent

__all__ = ["GammaWindow", "gammas_from_record"]


def gammas_from_record(record) -> list[float]:
    """Per-layer γ from a MeasurementRecord (or a JSON/JSONL path holding one) — ``measurement.per_layer``."""
    from attnscope.records import MeasurementRecord

    if isinstance(record, (str, Path)):
        from attnscope.io import read_jsonl

        path = Path(record)
        if not path.is_file():
            raise RecordError("no such measurement record file", field="gamma_record", value=str(record))
        rows = [r for r in read_jsonl(path) if r.get("kind") == "measurement"]
        if len(rows) != 1:
            raise RecordError(f"expected exactly one measurement record in the file, found {len(rows)}",
                              field="gamma_record", value=str(record))
        record = MeasurementRecord.model_validate(rows[0])
    per_layer = record.measurement.per_layer
    if not per_layer:
        raise RecordError("the record has no per-layer gammas (measure with per-layer output)",
                          field="measurement.per_layer", value=None)
    units = sorted((u for u in per_layer if u.head is None), key=lambda u: u.layer)
    missing = [u.layer for u in units if u.gamma is None]
    if missing:
        raise RecordError("the record has no gamma for these layers (fit failed)", field="per_layer", value=missing)
    return [float(u.gamma) for u in units]


@dataclass
class GammaWindow(SinksAndRecent, KVPolicy):
    """Sinks + the last D_f(γ_l, N, f) tokens per layer.

    Parameters
    ----------
    gammas : float or list of float
        Decay exponent per layer (one value = every layer). Use
        :meth:`from_prediction` (γ_Padé) or :meth:`from_record` (measured).
    f : float, default 0.9
        Attention-mass fraction the window must hold, in (0, 1].
    n_sink : int, default 4
        Leading positions always kept.
    gamma_source : str
        Where the γ came from (recorded in the results).
    """

    name = "gamma_window"
    gammas: Union[float, list[float]] = 1.0
    f: float = 0.9
    n_sink: int = 4
    ring_window: ClassVar[bool] = True
    gamma_source: str = "given"
    windows_: list[int] = field(default_factory=list, init=False, repr=False)
    budgets_: list[int] = field(default_factory=list, init=False, repr=False)

    @classmethod
    def from_prediction(cls, theta: float, T: int, *, f: float = 0.9, n_sink: int = 4) -> "GammaWindow":
        """γ_Padé(θ, T) for every layer (T = the training context)."""
        from attnscope.theory import gamma_pade

        g = gamma_pade(theta, T)
        return cls(gammas=g, f=f, n_sink=n_sink, gamma_source=f"gamma_pade(theta={theta:g}, T={T})")

    @classmethod
    def from_record(cls, record, *, f: float = 0.9, n_sink: int = 4) -> "GammaWindow":
        """Measured γ per layer from a MeasurementRecord (or a file holding one)."""
        return cls(gammas=gammas_from_record(record), f=f, n_sink=n_sink, gamma_source="measurement.per_layer")

    def _bind(self) -> None:
        from attnscope.theory import kv_window

        n_sink = check_sinks(self.n_sink)
        if not isinstance(self.f, (int, float)) or not 0.0 < float(self.f) <= 1.0:
            raise ProtocolError("the attention-mass fraction f must lie in (0, 1]", field="f", value=self.f)
        gammas = gammas_per_layer(self.gammas, self.n_layers_)
        N = self.context_ - 1
        self.windows_ = [int(kv_window(g, N, float(self.f))) for g in gammas]
        self.budgets_ = [min(n_sink + D + 1, self.context_) for D in self.windows_]

    def describe(self) -> dict:
        out = super().describe()
        if self.windows_:
            out["D_f_per_layer"] = list(self.windows_)
        return out
