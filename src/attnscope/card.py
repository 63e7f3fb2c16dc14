"""The TAF card: closed-form predictions for a model from its config alone, in about a second.

``card(source, context=None)`` resolves the config (preset, folder, config.json,
bundled model, hub id), parses it into an :class:`~attnscope.arch.ArchSpec`, and
predicts per layer type (θ, window): γ_Padé, regime, d_horizon, the exact KV
window D_f at f = 0.9, thermodynamics, the imprint γ_random and the invariant K.
The headline predictions are those of the primary layer type (full attention
if present). A prediction that does not apply is ``None`` and ``null_reasons``
says why (ALiBi / absolute / no attention / unknown θ / unknown T); θ = 10000
is never assumed. Every empirical constant used is listed with its provenance.
No torch import.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from attnscope.recipes import CARD_RECIPES, RECIPES
from attnscope.recipes._layers import LayerGroup, layer_groups, primary_group
from attnscope.theory.constants import CHINCHILLA_TOKENS_PER_PARAM, NU_IMPRINT, P0_IMPRINT
from attnscope.theory.decomposition import gamma_decompose
from attnscope.theory.imprint import gamma_random_pred
from attnscope.theory.invariant import K_invariant
from attnscope.theory.layer import layer_prediction
from attnscope.theory.ntk import ntk_alpha

SCHEMA_VERSION = 1
PREDICTION_FIELDS = ("gamma_pade", "regime", "d_horizon", "D_f_90", "ntk_alpha", "gamma_random_pred", "K", "thermo")


class Card(BaseModel):
    """A TAF card (JSON shape: ``{"model", "arch", "predictions", "recipes", ...}``)."""

    model_config = ConfigDict(frozen=True)
    schema_version: int = SCHEMA_VERSION
    model: str
    arch: dict[str, Any]
    predictions: dict[str, Any]
    recipes: dict[str, dict[str, Any]]
    warnings: list[str]


def _thermo_dict(th: Any) -> dict[str, Any] | None:
    return None if th is None else {"Z": th.Z, "U": th.U, "S": th.S, "F": th.F, "C_V": th.C_V}


def _group_prediction(g: LayerGroup) -> dict[str, Any]:
    out: dict[str, Any] = {
        "layer_type": g.layer_type, "layers": g.layers, "n_layers": g.n_layers, "theta": g.theta,
        "theta_source": g.theta_source, "window": g.window, "T": g.T, "T_used": g.T_used,
        "T_source": g.T_source, "rotary_dim": g.rotary_dim,
        "gamma_pade": None, "regime": None, "d_horizon": None, "D_f_90": None, "thermo": None,
        "null_reasons": {}, "notes": [], "warnings": list(g.warnings),
    }
    if g.null_reason:
        out["null_reasons"] = {k: g.null_reason for k in ("gamma_pade", "regime", "d_horizon", "D_f_90", "thermo")}
        return out
    lp = layer_prediction(g.theta, g.T, window=g.window, f=0.9)
    out.update(gamma_pade=lp.gamma_pade, regime=lp.regime.name, d_horizon=lp.d_horizon, D_f_90=lp.D_f,
               thermo=_thermo_dict(lp.thermo), notes=list(lp.notes))
    if lp.d_horizon is None:
        out["null_reasons"]["d_horizon"] = f"d_horizon is defined for 0 < γ < 1 only (γ_Padé = {lp.gamma_pade:.4f})"
    return out


def _predictions(arch: Any, context: int | None) -> tuple[dict[str, Any], list[str]]:
    groups = layer_groups(arch, context)
    prim = primary_group(groups)
    per = [_group_prediction(g) for g in groups]
    head = per[groups.index(prim)]
    warnings = [w for g in per for w in g["warnings"]]
    cl = getattr(arch, "context_length", None)
    if context is not None and cl and context > cl:
        warnings.append(f"--context {context} exceeds the model's maximum supported context ({cl}): "
                        "predictions describe the configured RoPE, not a validated operating point")
    N = float(arch.n_params_M) * 1e6
    pred: dict[str, Any] = {k: head[k] for k in ("gamma_pade", "regime", "d_horizon", "D_f_90", "thermo")}
    pred.update(ntk_alpha=None, gamma_random_pred=None, K=None, gamma_decomposition=None,
                primary_layer_type=prim.layer_type, theta_used=prim.theta, theta_source=prim.theta_source,
                T_used=prim.T_used, T_source=prim.T_source, T_train=getattr(arch, "T_train", None),
                null_reasons=dict(head["null_reasons"]), per_layer_type=per)
    constants: dict[str, dict] = {}
    if head["gamma_pade"] is not None:
        gp = head["gamma_pade"]
        T_train = getattr(arch, "T_train", None)
        if T_train and prim.window is None:
            pred["ntk_alpha"] = ntk_alpha(prim.theta, prim.T_used, T_train=T_train)
            pred["ntk_alpha_formula"] = "α = T_used / T_train (keeps γ_Padé at its training value)"
        else:
            pred["null_reasons"]["ntk_alpha"] = ("T_train unknown" if not T_train else
                                                 "primary layers are sliding-window: base scaling does not extend them")
        pred["d_horizon_note"] = ("d_horizon(θ, γ_Padé(θ, T)) = T_used exactly (Padé identity); only the γ "
                                  "decomposition moves it (recipe X-2)") if head["d_horizon"] is not None else None
        pred["gamma_random_pred"] = gamma_random_pred(gp, N)
        pred["K"] = K_invariant(gp, N)
        pred["K_note"] = "K from the predicted γ_Padé and D = 20·N (the panel band was fitted on measured γ)"
        for c in (NU_IMPRINT, P0_IMPRINT, CHINCHILLA_TOKENS_PER_PARAM):
            constants[c.name] = c.to_dict()
        windows = getattr(arch, "layer_window", None) or []
        dec = gamma_decompose(gp, has_gqa=int(arch.n_kv_heads) < int(arch.n_heads), has_swa=any(windows),
                              n_params=N, is_instruct=bool(getattr(arch, "is_instruct", False)))
        pred["gamma_decomposition"] = {
            "gamma_validated": dec.gamma_validated, "gamma_with_exploratory": dec.gamma_with_exploratory,
            "terms": [{"axis": t.axis, "applies": t.applies, "delta": t.delta, "status": t.status} for t in dec.terms],
        }
        warnings += list(dec.warnings)
        for t in dec.terms:
            if t.applies:
                constants[t.constant.name] = t.constant.to_dict()
    else:
        reason = head["null_reasons"].get("gamma_pade", "no γ_Padé")
        for k in ("ntk_alpha", "gamma_random_pred", "K", "gamma_decomposition"):
            pred["null_reasons"][k] = reason
    pred["constants"] = list(constants.values())
    return pred, warnings


def card(source: Any, *, context: int | None = None) -> Card:
    """Build the TAF card of a model from its config.

    Parameters
    ----------
    source : str or ArchSpec
        A preset name, HF id, local folder, config.json path or bundled model name
        (see :func:`attnscope.arch.resolve_source`), or an already parsed ArchSpec.
    context : int, optional
        Context (tokens) to predict at; default the model's T_train. Must be > 0.

    Returns
    -------
    Card
        ``predictions`` says which T it used (``T_used``, ``T_source``) and holds one
        entry per layer type in ``per_layer_type``; ``recipes`` summarises X-2, X-19,
        X-21, X-22 and X-23.

    Raises
    ------
    DomainError
        context ≤ 0; ConfigError / ModelSourceError for a bad source.
    """
    from attnscope.recipes._layers import resolve_T

    if isinstance(source, str):
        from attnscope.arch import load_arch

        arch = load_arch(source)
    else:
        arch = source
    resolve_T(arch, context)  # validates context before any work
    predictions, warnings = _predictions(arch, context)
    recipes = {}
    for rid in CARD_RECIPES:
        r = RECIPES[rid]
        opts = {"context": context} if context is not None and "context" in r.params else {}
        recipes[rid] = {"title": r.title, **r(arch, **opts).summary()}
    warnings = list(dict.fromkeys(list(getattr(arch, "warnings", [])) + warnings))
    return Card(model=str(arch.name), arch=arch.model_dump(mode="json"), predictions=predictions,
                recipes=recipes, warnings=warnings)


from attnscope._lazy import make_callable  # noqa: E402  (``from attnscope import card`` then ``card(...)``)

make_callable(__name__, __name__, "card")
