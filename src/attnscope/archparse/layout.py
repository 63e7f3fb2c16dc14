"""Per-layer attention layout: layer types, sliding windows and θ per layer."""
from __future__ import annotations

from attnscope.archparse.keys import Ctx, as_int
from attnscope.archparse.rope import FULL, SLIDING
from attnscope.errors import ConfigError

#: config-class defaults used by transformers when a Gemma key is absent
_GEMMA_WINDOW_DEFAULT = {"gemma2": 4096, "gemma3": 4096}
_KNOWN_TYPES = {FULL, SLIDING}


def layer_types(ctx: Ctx, family: str, n_layers: int) -> list[str] | None:
    """Layer types as the reference implementation builds them (None: all full attention)."""
    cfg = ctx.cfg
    lt = cfg.get("layer_types")
    if lt is not None:
        if not isinstance(lt, list) or not all(isinstance(t, str) for t in lt):
            raise ConfigError("expected a list of strings", field="layer_types", value=lt)
        if len(lt) != n_layers:
            raise ConfigError(f"has {len(lt)} entries but the model has {n_layers} layers",
                              field="layer_types", value=len(lt))
        for t in sorted(set(lt) - _KNOWN_TYPES):
            ctx.warnings.append(f"layer type {t!r} not modelled: treated as full causal attention")
        return None if all(t == FULL for t in lt) else list(lt)  # canonical: None = all full
    if family == "gemma2":
        return [SLIDING if (i + 1) % 2 else FULL for i in range(n_layers)]
    if family == "gemma3":
        key, pat = ctx.first(("sliding_window_pattern", "_sliding_window_pattern"))
        if key is None:
            pat = 6
            ctx.notes.append("sliding_window_pattern absent: 6 is the Gemma3TextConfig default")
        pat = as_int(pat, field=key or "sliding_window_pattern")
        return [SLIDING if (i + 1) % pat else FULL for i in range(n_layers)]
    window = cfg.get("sliding_window")
    if family in ("qwen2", "qwen3"):
        use = ctx.flag("use_sliding_window", False)
        if window is None:
            return None
        if not use:
            ctx.notes.append(
                f"sliding_window={window} is present but use_sliding_window=false: no layer is windowed")
            return None
        mwl = ctx.int_or("max_window_layers", n_layers, minimum=0)
        types = [SLIDING if i >= mwl else FULL for i in range(n_layers)]
        return types if SLIDING in types else None
    if window is not None and family not in ("gemma",):
        if family == "unknown":
            ctx.warnings.append("sliding_window applied to every layer (no layer_types in config)")
        return [SLIDING] * n_layers
    return None


def window_size(ctx: Ctx, family: str, types: list[str] | None) -> int | None:
    """The sliding-window length, if any layer is windowed."""
    if not types or SLIDING not in types:
        return None
    w = ctx.cfg.get("sliding_window")
    if w is None and family in _GEMMA_WINDOW_DEFAULT:
        w = _GEMMA_WINDOW_DEFAULT[family]
        ctx.notes.append(f"sliding_window absent: {w} is the {family} config-class default")
    if w is None:
        raise ConfigError("layer_types has sliding_attention layers but no window length",
                          field="sliding_window", value=None)
    return as_int(w, field="sliding_window")
