"""Derived attention-temperature schedules, only where weights set the logit scale.

An attention logit is s = q . k / sqrt(d_head) (or a fixed query_pre_attn_scalar).
A per-layer weight scale is a *temperature* only if it multiplies q or k after
the last normalisation:

- ``qk_norm``: q_norm/k_norm gains (Qwen3, OLMo-2, Gemma 3, Phi with
  qk_layernorm) scale q and k directly. logit gain(L) = mean over query heads
  and head dims of g_q * g_k (effective gains, Gemma's 1 + w; each query head
  paired with its KV head), T(L) = 1 / gain(L), relative to unit gains. Fixed
  factors (1/sqrt(d_head), query_pre_attn_scalar) are the same in every layer
  and omitted.
- ``qk_proj`` (families without q/k norms): the q/k projections with the input
  norm's gain folded in, gain(L) = sigma(W_q diag g_in) sigma(W_k diag g_in) / sqrt(d_head):
  the largest logit a unit-norm normalised input can produce. An upper bound,
  not the typical logit (it ignores how q and k subspaces align); layer-to-layer
  ratios are what it is for. Not applicable with q/k norms, which re-normalise q
  and k after the projection and cancel its scale, nor with MLA (no single W_k).

The input norm's gain alone is never read as a temperature: it feeds q, k and
v and is followed by the projections, so it does not set the logit scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attnscope.trajectory.extract import Extraction
from attnscope.trajectory.fits import Selection, select_form
from attnscope.trajectory.names import Layout

INPUT_LN_NOTE = ("input_ln is not read as a temperature: its gain feeds q, k and v and is followed by the "
                 "projections, so it does not set the logit scale (it is folded into the qk_proj proxy instead)")


@dataclass(frozen=True)
class TemperatureSchedule:
    """One derived schedule (or the reason there is none)."""

    source: str  # "qk_norm" | "qk_proj"
    applicable: bool
    definition: str
    note: str
    layers: list[int] | None = None
    logit_gain: list[float] | None = None
    temperature: list[float] | None = None  # 1 / logit_gain (relative units)
    fit: Selection | None = None  # fitted to ``temperature``


QK_NORM_DEF = "gain = mean_{heads, dims} g_q * g_k (effective gains); T = 1/gain, relative to unit gains"
QK_PROJ_DEF = "gain = sigma(W_q diag g_in) * sigma(W_k diag g_in) / sqrt(d_head) (upper bound); T = 1/gain"


def _schedule(source: str, definition: str, gains: list[float], fit_kwargs: dict) -> TemperatureSchedule:
    g = np.asarray(gains, dtype=float)
    layers = list(range(len(g)))
    if np.any(g <= 0):
        return TemperatureSchedule(source, False, definition, "a non-positive logit gain in some layer: no temperature",
                                   layers, g.tolist())
    temp = 1.0 / g
    return TemperatureSchedule(source, True, definition, "fitted forms describe T(L)", layers, g.tolist(), temp.tolist(),
                               select_form(np.arange(len(g), dtype=float), temp, **fit_kwargs))


def temperature_schedules(ext: Extraction, layout: Layout, **fit_kwargs) -> tuple[list[TemperatureSchedule], list[str]]:
    """Both schedules for one extraction, with fits (``fit_kwargs`` go to :func:`select_form`).

    Returns the schedules and notes (the input-norm note when the family has one).
    """
    notes = [INPUT_LN_NOTE] if "input_ln" in ext.rows else []
    out = []
    if not layout.has_attention:
        why = "the model has no attention layers"
        return [TemperatureSchedule("qk_norm", False, QK_NORM_DEF, why), TemperatureSchedule("qk_proj", False, QK_PROJ_DEF, why)], notes
    if layout.qk_norm != "none" and ext.qk_norm_logit_gain:
        out.append(_schedule("qk_norm", QK_NORM_DEF, ext.qk_norm_logit_gain, fit_kwargs))
    else:
        out.append(TemperatureSchedule("qk_norm", False, QK_NORM_DEF, f"family {layout.family!r} has no q_norm/k_norm gains"))
    if layout.qk_norm != "none":
        out.append(TemperatureSchedule("qk_proj", False, QK_PROJ_DEF,
                                       "q_norm/k_norm re-normalise q and k after the projections, so the projections' scale cancels"))
    elif ext.qk_proj_logit_gain:
        out.append(_schedule("qk_proj", QK_PROJ_DEF, ext.qk_proj_logit_gain, fit_kwargs))
    else:
        out.append(TemperatureSchedule("qk_proj", False, QK_PROJ_DEF,
                                       "no single q and k projection per layer (MLA builds k through kv_a -> kv_a_norm -> kv_b)"))
    return out, notes
