"""Per-layer scale extraction from a tensor source, without building the model.

Tensors are read one at a time (a one-slot cache serves the q/k/v pieces of a
fused matrix from a single read); the only other arrays held are the current
layer's small gain vectors, for the logit-scale proxies.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field

import numpy as np

from attnscope.trajectory.names import Layout, RowSpec
from attnscope.trajectory.sources import TensorNameError, TensorSource
from attnscope.trajectory.stats import frobenius, norm_stats, spectral_norm

NORM_STATS = ("mean_abs", "rms")
PROJ_STATS = ("frobenius", "spectral")


@dataclass(frozen=True)
class RowTrajectory:
    """One row's per-layer statistics (``values[stat][j]`` belongs to ``layers[j]``)."""

    name: str
    kind: str
    tensor_template: str
    split: str | None
    gain_offset: float
    layers: list[int]
    tensors: list[str]
    shapes: list[list[int]]
    values: dict[str, list[float]]
    spectral_iterations: list[int] | None = None
    spectral_converged: list[bool] | None = None


@dataclass(frozen=True)
class Extraction:
    """Everything read from one checkpoint (or one random-init null)."""

    family: str
    source: str
    files: list[str]
    prefix: str
    n_layers: int
    norm_type: str
    gain_convention: str
    rows: dict[str, RowTrajectory]
    qk_norm_logit_gain: list[float] | None  # per layer: mean_{heads,dims} g_q * g_k (effective gains)
    qk_proj_logit_gain: list[float] | None  # per layer: sigma(W_q diag g_in) sigma(W_k diag g_in) / sqrt(d_head)
    power_iteration: dict
    absent_rows: list[str]
    notes: list[str]
    warnings: list[str] = field(default_factory=list)


def _missing(name: str, keys: frozenset[str], why: str) -> TensorNameError:
    close = difflib.get_close_matches(name, list(keys), n=1, cutoff=0.75)
    hint = f"; closest tensor present: {close[0]!r}" if close else ""
    return TensorNameError(f"missing from the checkpoint ({why}){hint}", field="tensor", value=name)


def find_prefix(layout: Layout, keys: frozenset[str]) -> tuple[str, list[str]]:
    """The layer-prefix template (``"model.layers.{i}."``) this checkpoint uses."""
    probe = next(r for r in layout.rows if r.layers is None or 0 in r.layers)
    for p in layout.prefixes:
        if p.format(i=0) + probe.tensor in keys:
            return p, []
    pattern = re.compile(r"^(.*?)0\." + re.escape(probe.tensor) + "$")
    found = sorted({m.group(1) + "{i}." for k in keys if (m := pattern.match(k))})
    if len(found) == 1:
        return found[0], [f"non-standard layer prefix {found[0]!r} for family {layout.family!r} (found by tensor name)"]
    expected = layout.prefixes[0].format(i=0) + probe.tensor
    if found:
        raise TensorNameError(f"ambiguous layer prefix, candidates {found}", field="tensor", value=expected)
    raise _missing(expected, keys, f"family {layout.family!r} expects it for row {probe.name!r}, layer 0")


def _piece(w: np.ndarray, row: RowSpec, layout: Layout, name: str) -> np.ndarray:
    """Cut the row's piece out of a (possibly fused) 2-D weight."""
    if w.ndim != 2:
        raise TensorNameError(f"expected a 2-D projection weight, got shape {list(w.shape)}", field="tensor", value=name)
    if row.split is None:
        return w
    h, kv, dh = layout.n_heads, layout.n_kv_heads, layout.d_head
    out, inp = w.shape
    try:
        if row.split in ("rows", "cols"):
            axis = 0 if row.split == "rows" else 1
            sizes = row.sizes
            if sum(sizes) != w.shape[axis] or 0 in sizes:
                raise ValueError(f"dim {axis} = {w.shape[axis]} but the head counts give {list(sizes)}")
            start = sum(sizes[:row.piece])
            return w[start:start + sizes[row.piece]] if axis == 0 else w[:, start:start + sizes[row.piece]]
        if row.split == "heads3":
            return w.reshape(h, 3, dh, inp)[:, row.piece].reshape(h * dh, inp)
        if row.split == "falcon_mqa":
            blocks = w.reshape(h + 2, dh, inp)
            return blocks[:h].reshape(h * dh, inp) if row.piece == 0 else blocks[h + row.piece - 1]
        if row.split == "falcon_gqa":
            g = w.reshape(kv, h // kv + 2, dh, inp)
            return g[:, :-2].reshape(h * dh, inp) if row.piece == 0 else g[:, -3 + row.piece].reshape(kv * dh, inp)
    except ValueError as exc:
        raise TensorNameError(
            f"fused {row.split} weight of shape {[out, inp]} does not split by n_heads={h}, n_kv_heads={kv}, d_head={dh} ({exc})",
            field="tensor", value=name) from None
    raise ValueError(f"unknown split {row.split!r}")  # pragma: no cover - names.py defines every split


def _qk_norm_gain(gq: np.ndarray, gk: np.ndarray, layout: Layout, names: tuple[str, str]) -> float:
    """mean over query heads and dims of g_q * g_k, pairing each query head with its KV head."""
    h, kv, dh = layout.n_heads, layout.n_kv_heads, layout.d_head
    if gq.size == gk.size:  # per-head norms (qwen3, gemma3) or MHA full-width norms
        return float(np.mean(gq * gk))
    if gq.size != h * dh or gk.size != kv * dh or kv == 0 or h % kv:
        raise TensorNameError(f"q_norm/k_norm sizes {gq.size}/{gk.size} do not match n_heads={h}, n_kv_heads={kv}, d_head={dh}",
                              field="tensor", value=names[1])
    gk_rep = np.repeat(gk.reshape(kv, dh), h // kv, axis=0)  # [H, dh]: query head j uses KV head j // (H/kv)
    return float(np.mean(gq.reshape(h, dh) * gk_rep))


def extract(source: TensorSource, layout: Layout, *, seed: int = 0, max_iter: int = 300, tol: float = 1e-5) -> Extraction:
    """Read every row of ``layout`` from ``source`` and compute its per-layer statistics.

    Parameters
    ----------
    source : TensorSource
        Lazy tensor access (safetensors checkpoint or an in-memory state dict).
    layout : Layout
        The family's name map (:func:`attnscope.trajectory.names.layout_for`).
    seed, max_iter, tol : power-iteration settings (recorded in the result).

    Raises
    ------
    TensorNameError
        A tensor the family needs is missing, or has the wrong rank or shape; the
        message names the tensor (and the closest name present, if any).
    """
    keys = source.keys()
    prefix, found_warnings = find_prefix(layout, keys)
    warnings = [*layout.warnings, *found_warnings]
    probe = next(r for r in layout.rows if r.layers is None or 0 in r.layers)
    extra = prefix.format(i=layout.n_layers) + probe.tensor
    if extra in keys:
        warnings.append(f"the checkpoint has more layers than n_layers={layout.n_layers} ({extra!r} exists); extra layers ignored")
    acc: dict[str, dict] = {r.name: {"layers": [], "tensors": [], "shapes": [], "values": {}, "iters": [], "conv": []} for r in layout.rows}
    qk_norm_gain: list[float] = []
    qk_proj_gain: list[float] = []
    cache: tuple[str, np.ndarray] | None = None
    folded_unconverged = 0
    for i in range(layout.n_layers):
        gains: dict[str, np.ndarray] = {}
        sigmas: dict[str, float] = {}
        for row in layout.rows:
            if row.layers is not None and i not in row.layers:
                continue
            name = prefix.format(i=i) + row.tensor
            if name not in keys:
                raise _missing(name, keys, f"family {layout.family!r} expects it for row {row.name!r}, layer {i}")
            if cache is None or cache[0] != name:
                cache = (name, source.get(name))
            w = cache[1]
            a = acc[row.name]
            a["layers"].append(i)
            a["tensors"].append(name)
            if row.kind == "norm":
                if w.ndim != 1:
                    raise TensorNameError(f"expected a 1-D norm gain, got shape {list(w.shape)}", field="tensor", value=name)
                st = norm_stats(w, offset=row.gain_offset)
                a["shapes"].append([int(w.size)])
                for k in NORM_STATS:
                    a["values"].setdefault(k, []).append(getattr(st, k))
                gains[row.name] = w.astype(np.float64) + row.gain_offset
                continue
            m = _piece(w, row, layout, name)
            a["shapes"].append([int(s) for s in m.shape])
            a["values"].setdefault("frobenius", []).append(frobenius(m))
            sp = spectral_norm(m, seed=seed, max_iter=max_iter, tol=tol)
            a["values"].setdefault("spectral", []).append(sp.sigma)
            a["iters"].append(sp.iterations)
            a["conv"].append(sp.converged)
            if row.name in ("q", "k") and layout.qk_norm == "none" and layout.has_attention:
                g = gains.get("input_ln") if layout.input_ln_feeds_qk else None
                if g is not None and g.size != m.shape[row.in_axis]:
                    raise TensorNameError(f"input_ln size {g.size} does not match the projection's input dim {m.shape[row.in_axis]}",
                                          field="tensor", value=name)
                # fold the input norm's gain into the projection: W diag(g) (scale the input axis)
                folded = m if g is None else m * (g[None, :] if row.in_axis == 1 else g[:, None]).astype(np.float32)
                fsp = spectral_norm(folded, seed=seed, max_iter=max_iter, tol=tol)
                sigmas[row.name] = fsp.sigma
                folded_unconverged += not fsp.converged
        if layout.qk_norm != "none" and "q_norm" in gains and "k_norm" in gains:
            qk_norm_gain.append(_qk_norm_gain(gains["q_norm"], gains["k_norm"], layout,
                                              (prefix.format(i=i) + "q_norm", prefix.format(i=i) + "k_norm")))
        if "q" in sigmas and "k" in sigmas:
            layer_factor = 1.0 / (i + 1) if layout.inverse_layer_logit_scale else 1.0
            qk_proj_gain.append(sigmas["q"] * sigmas["k"] / math.sqrt(layout.d_head) * layer_factor)
    cache = None
    rows = {}
    for row in layout.rows:
        a = acc[row.name]
        rows[row.name] = RowTrajectory(
            name=row.name, kind=row.kind, tensor_template=prefix + row.tensor, split=row.split, gain_offset=row.gain_offset,
            layers=a["layers"], tensors=a["tensors"], shapes=a["shapes"], values=a["values"],
            spectral_iterations=a["iters"] if row.kind == "proj" else None,
            spectral_converged=a["conv"] if row.kind == "proj" else None)
        if row.kind == "proj" and not all(a["conv"]):
            warnings.append(f"row {row.name!r}: power iteration did not reach tol={tol} within {max_iter} iterations in "
                            f"{a['conv'].count(False)} layer(s); the spectral value is a lower bound there")
    if folded_unconverged:
        warnings.append(f"qk_proj logit gain: power iteration on W diag(g_in) did not reach tol={tol} in "
                        f"{folded_unconverged} matrix(es); those sigmas are lower bounds")
    return Extraction(
        family=layout.family, source=source.description, files=[str(p) for p in getattr(source, "files", [])],
        prefix=prefix, n_layers=layout.n_layers, norm_type=layout.norm_type, gain_convention=layout.gain_convention,
        rows=rows, qk_norm_logit_gain=qk_norm_gain or None, qk_proj_logit_gain=qk_proj_gain or None,
        power_iteration={"seed": seed, "max_iter": max_iter, "tol": tol, "start": "standard normal, unit norm",
                         "operator": "W^T W (smaller side)"},
        absent_rows=list(layout.absent), notes=list(layout.notes), warnings=warnings)
