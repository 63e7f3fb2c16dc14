"""Group an ArchSpec's layers into layer types for per-layer-type predictions.

A layer type is a set of layers sharing (rotary base θ, sliding window). Each
group says which θ and which context T it uses, and why:

* T = the context asked for (``--context``) or T_train, capped at the layer's
  sliding window (a sliding layer never sees further than its window);
* θ = the layer's own base (Gemma local layers: 1e4; global: 1e6). Rope scaling
  (applied to the full-attention θ only):
  - ``linear`` (position interpolation) divides every frequency by the factor,
    which is exactly γ_Padé at θ·factor;
  - ``dynamic`` (dynamic NTK, transformers' formula) raises θ to
    θ·(factor·T/T_orig − factor + 1)^(d/(d−2)) when T > T_orig;
  - ``yarn``, ``llama3``, ``longrope`` and other frequency-dependent schemes
    have no single equivalent θ: the unscaled θ is used and a warning says so.
* a layer type whose θ is unknown, or a model without RoPE, gets no prediction
  and a ``null_reason`` (θ = 10000 is never assumed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attnscope.errors import DomainError

FREQ_DEPENDENT = ("yarn", "llama3", "longrope", "su", "default_yarn")


@dataclass(frozen=True)
class LayerGroup:
    """One layer type of a model and the (θ, T) its predictions use."""

    layer_type: str
    layers: list[int]
    theta: float | None
    theta_source: str
    window: int | None
    T: int | None
    T_used: int | None
    T_source: str
    rotary_dim: int | None
    null_reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def n_layers(self) -> int:
        return len(self.layers)


def resolve_T(arch: Any, context: int | None) -> tuple[int | None, str]:
    """The context predictions use: ``--context`` if given (validated > 0), else T_train."""
    if context is not None:
        if isinstance(context, bool) or not isinstance(context, int) or context <= 0:
            raise DomainError("must be a positive integer (tokens)", field="context", value=context)
        return context, "--context"
    T = getattr(arch, "T_train", None)
    return (int(T), "T_train") if T else (None, "T_train")


def _scaled_theta(arch: Any, theta: float, T: int) -> tuple[float, str, list[str]]:
    rs = getattr(arch, "rope_scaling", None)
    if not rs:
        return theta, "rope_theta", []
    kind = str(rs.get("type") or rs.get("rope_type") or "").lower()
    factor = rs.get("factor")
    if kind == "linear" and factor:
        return theta * float(factor), f"rope_theta × factor {factor} (linear scaling: exact)", []
    if kind == "dynamic" and factor:
        t_orig = rs.get("original_max_position_embeddings") or getattr(arch, "T_train", None)
        d = getattr(arch, "rotary_dim", None) or getattr(arch, "d_head", None)
        if t_orig and d and d > 2 and T > t_orig:
            base = float(factor) * T / float(t_orig) - (float(factor) - 1.0)
            return theta * base ** (d / (d - 2)), f"dynamic NTK at T={T} (transformers formula)", []
        return theta, "rope_theta (dynamic scaling inactive at T ≤ original context)", []
    return theta, "rope_theta (unscaled)", [
        f"rope_scaling type={kind or '?'} (factor {factor}) rescales frequencies unevenly; it has no single "
        f"equivalent θ, so predictions use the unscaled θ={theta:g}"]


def layer_groups(arch: Any, context: int | None = None) -> list[LayerGroup]:
    """Per-layer-type (θ, T) for the predictions, in order of first layer."""
    T, T_src = resolve_T(arch, context)
    pe = getattr(arch, "position_encoding", "rope")
    rot = getattr(arch, "rotary_dim", None)
    full_theta = getattr(arch, "rope_theta", None)
    # one grouping implementation: ArchSpec.layer_groups() (layer type, θ, window)
    keyed = {(lg.layer_type, lg.rope_theta, lg.window): list(lg.layers) for lg in arch.layer_groups()}
    out = []
    for (lt, th, w), idx in keyed.items():
        T_l = None if T is None else (min(T, int(w)) if w else T)
        T_src_l = T_src if not w or T is None or T <= w else f"sliding window ({w}) < {T_src} ({T})"
        if pe != "rope" or int(getattr(arch, "n_heads", 1)) == 0:
            why = ("no attention layers (state-space model): attention-decay predictions do not apply"
                   if int(getattr(arch, "n_heads", 1)) == 0 else
                   f"position_encoding={pe}: the Padé formula applies to RoPE only")
            out.append(LayerGroup(lt, idx, None, "n/a", w, T, T_l, T_src_l, None, why))
            continue
        if th is None:
            out.append(LayerGroup(lt, idx, None, "unknown", w, T, T_l, T_src_l, rot,
                                  "rope_theta unknown in the config: no prediction (θ = 10000 is never assumed)"))
            continue
        if T_l is None:
            out.append(LayerGroup(lt, idx, float(th), "rope_theta", w, None, None, T_src_l, rot,
                                  "T_train unknown in the config: pass --context"))
            continue
        warnings: list[str] = []
        theta_used, src = float(th), "layer rope_theta"
        if w is None and full_theta is not None and float(th) == float(full_theta):
            theta_used, src, warnings = _scaled_theta(arch, float(th), T_l)
        out.append(LayerGroup(lt, idx, theta_used, src, w, T, T_l, T_src_l, rot, None, warnings))
    return out


def primary_group(groups: list[LayerGroup]) -> LayerGroup:
    """The group whose predictions head the card: full-attention layers if any, else the largest group."""
    full = [g for g in groups if g.window is None]
    pool = full or groups
    return max(pool, key=lambda g: (g.n_layers, -g.layers[0]))
