"""RoPE parameters from a raw config: legacy ``rope_theta`` + ``rope_scaling`` or
transformers-v5 ``rope_parameters`` (flat, or nested per layer type).

Both formats normalise to the same :class:`RopeInfo`, so a legacy config and its
v5 re-save give the same :class:`~attnscope.arch.ArchSpec`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attnscope.archparse.keys import Ctx, as_float, as_int, as_theta
from attnscope.errors import ConfigError

#: legacy scaling-type aliases → canonical transformers names
_TYPE_ALIASES = {"su": "longrope"}
#: keys that are not part of the scaling description
_NOT_SCALING = {"type", "rope_type", "rope_theta", "partial_rotary_factor"}
FULL = "full_attention"
SLIDING = "sliding_attention"


@dataclass(frozen=True)
class RopeInfo:
    """Normalised RoPE parameters.

    ``theta`` and ``scaling`` are keyed by layer type (``"full_attention"``,
    ``"sliding_attention"``, ...); a non-nested config has only ``"full_attention"``
    (which then applies to every layer). ``theta`` values are ``None`` when the
    config does not give one.
    """

    theta: dict[str, float | None]
    theta_key: dict[str, str | None]
    scaling: dict[str, dict[str, Any] | None]
    partial_rotary_factor: float | None
    partial_key: str | None
    fmt: str  # "legacy" | "v5-flat" | "v5-nested" | "none"


def normalize_scaling(s: Any, *, where: str) -> dict[str, Any] | None:
    """Canonical scaling dict ``{type, factor, original_max_position_embeddings, ...}`` or None."""
    if s is None:
        return None
    if not isinstance(s, dict):
        raise ConfigError("expected an object or null", field=where, value=s)
    rtype = s.get("rope_type", s.get("type"))
    if rtype is None:
        raise ConfigError("rope scaling without a type", field=f"{where}.rope_type", value=None)
    if not isinstance(rtype, str):
        raise ConfigError("expected a string", field=f"{where}.rope_type", value=rtype)
    rtype = _TYPE_ALIASES.get(rtype, rtype)
    if rtype == "default":
        return None
    out: dict[str, Any] = {"type": rtype}
    if s.get("factor") is not None:
        out["factor"] = as_float(s["factor"], field=f"{where}.factor")
    if s.get("original_max_position_embeddings") is not None:
        out["original_max_position_embeddings"] = as_int(
            s["original_max_position_embeddings"], field=f"{where}.original_max_position_embeddings"
        )
    for k, v in s.items():
        if k not in _NOT_SCALING and k not in out:
            out[k] = v
    return out


def _flat(d: Any, where: str) -> tuple[float | None, dict | None, float | None]:
    if not isinstance(d, dict):
        raise ConfigError("expected an object", field=where, value=d)
    theta = None if d.get("rope_theta") is None else as_theta(d["rope_theta"], field=f"{where}.rope_theta")
    pf = d.get("partial_rotary_factor")
    pf = None if pf is None else as_float(pf, field=f"{where}.partial_rotary_factor")
    return theta, normalize_scaling(d, where=where), pf


def is_nested(rp: dict) -> bool:
    return bool(rp) and all(isinstance(v, dict) for v in rp.values())


def parse_rope(ctx: Ctx, *, theta_keys: tuple[str, ...] = ("rope_theta",),
               local_theta_key: str | None = None,
               partial_keys: tuple[str, ...] = ("partial_rotary_factor",)) -> RopeInfo:
    """Read θ, scaling and partial-rotary factor in either config format.

    Parameters
    ----------
    ctx : Ctx
        The (text) config.
    theta_keys : tuple of str
        Legacy top-level keys for the (global) θ, first present wins
        (``rotary_emb_base`` for GPT-NeoX).
    local_theta_key : str, optional
        Legacy top-level key for the sliding-layer θ (``rope_local_base_freq``, Gemma 3).
    partial_keys : tuple of str
        Legacy keys for the rotary fraction (``rotary_pct`` for GPT-NeoX).
    """
    cfg = ctx.cfg
    tkey, tval = ctx.first(theta_keys)
    legacy_theta = None if tkey is None else as_theta(tval, field=tkey)
    pkey, pval = ctx.first(partial_keys)
    partial = None if pkey is None else as_float(pval, field=pkey)
    rp = cfg.get("rope_parameters")
    theta: dict[str, float | None] = {}
    theta_key: dict[str, str | None] = {}
    scaling: dict[str, dict | None] = {}
    if rp is not None:
        if not isinstance(rp, dict):
            raise ConfigError("expected an object", field="rope_parameters", value=rp)
        if cfg.get("rope_scaling") is not None:
            ctx.warnings.append("config has both rope_scaling and rope_parameters: used rope_parameters")
        items = list(rp.items()) if is_nested(rp) else [(FULL, rp)]
        fmt = "v5-nested" if is_nested(rp) else "v5-flat"
        for lt, d in items:
            where = "rope_parameters" if fmt == "v5-flat" else f"rope_parameters.{lt}"
            t, sc, pf = _flat(d, where)
            theta[lt], theta_key[lt] = t, f"{where}.rope_theta" if t is not None else None
            if t is None and lt == FULL and legacy_theta is not None:
                theta[lt], theta_key[lt] = legacy_theta, tkey
            if t is None and lt == SLIDING and local_theta_key and ctx.has(local_theta_key):
                theta[lt] = as_theta(cfg[local_theta_key], field=local_theta_key)
                theta_key[lt] = local_theta_key
            scaling[lt] = sc
            if pf is not None:
                if partial is not None and pf != partial:
                    ctx.warnings.append(
                        f"partial_rotary_factor {pf} in {where} differs from {pkey}={partial}: used {pf}")
                partial, pkey = pf, f"{where}.partial_rotary_factor"
        return RopeInfo(theta, theta_key, scaling, partial, pkey, fmt)
    theta[FULL], theta_key[FULL] = legacy_theta, tkey
    scaling[FULL] = normalize_scaling(cfg.get("rope_scaling"), where="rope_scaling")
    if local_theta_key and ctx.has(local_theta_key):
        theta[SLIDING] = as_theta(cfg[local_theta_key], field=local_theta_key)
        theta_key[SLIDING] = local_theta_key
        scaling[SLIDING] = None
    fmt = "legacy" if (tkey or cfg.get("rope_scaling") is not None) else "none"
    return RopeInfo(theta, theta_key, scaling, partial, pkey, fmt)
