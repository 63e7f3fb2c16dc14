"""Per-layer-type predictions: one call per distinct (θ, window) pair of a model.

Models mix layer types (Gemma 2/3 local/global θ and windows, Qwen2 max_window_layers,
Mistral sliding windows). Every prediction is computed from explicit θ and T;
for a sliding-window layer the keys beyond the window are masked, so the
distance range is T_used = min(T, window) (stated in ``notes``). Non-RoPE layers
(θ = None) get ``None`` predictions with the reason.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from attnscope.theory import _validate as v
from attnscope.theory.horizon import d_horizon
from attnscope.theory.kv_window import kv_window
from attnscope.theory.pade import gamma_pade
from attnscope.theory.regime import Regime, regime
from attnscope.theory.thermo import Thermo, thermo


@dataclass(frozen=True)
class LayerPrediction:
    """Closed-form predictions for one layer type.

    Attributes
    ----------
    theta : float or None
        RoPE base of the layer type (None: no rotary position encoding).
    window : int or None
        Sliding window (None: full attention).
    T : int
        Context asked about (T_train or the user's context), tokens.
    T_used : int
        min(T, window): the distance range the predictions use.
    f : float
        KV mass fraction for D_f.
    gamma_pade, d_horizon : float or None
    regime : Regime or None
    D_f : int or None
        kv_window(γ_Padé, T_used, f).
    thermo : Thermo or None
        thermo(γ_Padé, T_used).
    notes : tuple of str
        Why a field is None, which T was used.
    """

    theta: float | None
    window: int | None
    T: int
    T_used: int
    f: float
    gamma_pade: float | None
    regime: Regime | None
    d_horizon: float | None
    D_f: int | None
    thermo: Thermo | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["regime"] = self.regime.to_dict() if self.regime else None
        d["thermo"] = self.thermo.to_dict() if self.thermo else None
        d["notes"] = list(self.notes)
        return d


def layer_prediction(theta: float | None, T: int, *, window: int | None = None, f: float = 0.9) -> LayerPrediction:
    """Predictions for one layer type with RoPE base ``theta`` (or None) at context ``T``.

    Raises
    ------
    DomainError
        If θ ≤ 0, T < 1, window < 1 or f ∉ (0, 1].
    """
    t = v.integer_ge("T", T, 1)
    w = None if window is None else v.integer_ge("window", window, 1)
    t_used = t if w is None else min(t, w)
    notes = []
    if w is not None and w < t:
        notes.append(f"sliding window {w} < T={t}: predictions use T_used={t_used}")
    if theta is None:
        notes.append("no rotary position encoding: gamma_pade, regime, d_horizon, D_f and thermo do not apply")
        v.real("f", f)
        return LayerPrediction(theta=None, window=w, T=t, T_used=t_used, f=float(f), gamma_pade=None,
                               regime=None, d_horizon=None, D_f=None, thermo=None, notes=tuple(notes))
    th = v.positive("theta", theta)
    g = gamma_pade(th, t_used)
    reg = regime(g)
    dh = None
    if reg.long_range:
        dh = d_horizon(th, g)
    else:
        notes.append(f"d_horizon is defined for 0 < gamma < 1 only (gamma_pade={g:.4f})")
    return LayerPrediction(theta=th, window=w, T=t, T_used=t_used, f=float(f), gamma_pade=g, regime=reg,
                           d_horizon=dh, D_f=kv_window(g, t_used, f), thermo=thermo(g, t_used),
                           notes=tuple(notes))


def layer_type_predictions(layer_theta: list[float | None], layer_window: list[int | None], T: int, *,
                           f: float = 0.9) -> list[tuple[tuple[int, ...], LayerPrediction]]:
    """Group layers by (θ, window) and predict once per group.

    Parameters
    ----------
    layer_theta : list of float or None
        RoPE base per layer (``ArchSpec.layer_rope_theta``).
    layer_window : list of int or None
        Sliding window per layer (``ArchSpec.layer_window``; None = full attention).
    T : int
        Context (tokens).
    f : float, default 0.9

    Returns
    -------
    list of (layer indices, LayerPrediction)
        In order of first appearance.
    """
    from attnscope.errors import DomainError

    if len(layer_theta) != len(layer_window):
        raise DomainError(f"length {len(layer_window)} differs from layer_theta length {len(layer_theta)}",
                          field="layer_window", value=len(layer_window))
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(layer_theta, layer_window)):
        groups.setdefault(key, []).append(i)
    return [(tuple(idx), layer_prediction(th, T, window=w, f=f)) for (th, w), idx in groups.items()]
