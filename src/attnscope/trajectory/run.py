"""``trajectory()``: per-layer weight-scale trajectories of one or more models/checkpoints.

load config -> name map -> lazy extraction from safetensors -> fits and model
selection per row -> derived temperature schedules -> the random-init null
(same architecture, same extraction) -> one :class:`TrajectoryResult`.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from attnscope.errors import ModelSourceError, ProtocolError
from attnscope.trajectory.extract import Extraction, extract
from attnscope.trajectory.fits import ALL_FORMS, Selection, select_form
from attnscope.trajectory.names import layout_for
from attnscope.trajectory.sources import SafetensorsSource
from attnscope.trajectory.temperature import TemperatureSchedule, temperature_schedules

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class NullReport:
    """The random-init null of one model: its extraction, fits and trained/null ratios."""

    seed: int
    source: str
    extraction: Extraction
    fits: dict[str, dict[str, Selection]]
    ratio_to_null: dict[str, dict[str, list[float | None]]]


@dataclass(frozen=True)
class ModelTrajectory:
    """Everything measured for one model (or one checkpoint revision)."""

    label: str
    source: str
    revision: str | None
    kind: str
    family: str
    model_type: str | None
    config_sha256: str
    arch: dict[str, Any]
    extraction: Extraction
    fits: dict[str, dict[str, Selection]]
    temperature: list[TemperatureSchedule]
    temperature_notes: list[str]
    null: NullReport | None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrajectoryResult:
    """Result of :func:`trajectory` (serialised as the ``--out`` JSON)."""

    schema_version: int
    key: str
    params: dict[str, Any]
    models: list[ModelTrajectory]
    families: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)
    provenance: Any = None  # attnscope.records.Provenance


def _weights_folder(rs, revision: str | None) -> Path:
    if rs.path is not None:
        return Path(rs.path)
    if rs.kind == "hub" and rs.hf_id:
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(rs.hf_id, revision=revision,
                                          allow_patterns=["*.safetensors", "model.safetensors.index.json", "config.json"]))
        except Exception as exc:  # noqa: BLE001 - any hub failure becomes one actionable line
            raise ModelSourceError(f"cannot download the safetensors weights ({type(exc).__name__}); "
                                   "download them and pass the local folder", field="model", value=rs.hf_id) from None
    raise ModelSourceError(f"{rs.kind} {rs.name!r} has a config but no weights; trajectory reads safetensors weights: "
                           "pass a folder holding model.safetensors (or a sharded index)", field="model", value=rs.name)


def _fit_rows(ext: Extraction, fit_kwargs: dict) -> dict[str, dict[str, Selection]]:
    out: dict[str, dict[str, Selection]] = {}
    for name, row in ext.rows.items():
        x = [float(i) for i in row.layers]
        out[name] = {stat: select_form(x, vals, **fit_kwargs) for stat, vals in row.values.items()}
    return out


def _ratios(ext: Extraction, null: Extraction) -> dict[str, dict[str, list[float | None]]]:
    out: dict[str, dict[str, list[float | None]]] = {}
    for name, row in ext.rows.items():
        nrow = null.rows.get(name)
        if nrow is None:
            continue
        out[name] = {stat: [a / b if b else None for a, b in zip(vals, nrow.values.get(stat, []))]
                     for stat, vals in row.values.items()}
    return out


def _one(source: str, revision: str | None, *, null: bool, seed: int, power: dict, fit_kwargs: dict,
         null_max_params_m: float) -> ModelTrajectory:
    from attnscope.arch import parse_config, resolve_source

    rs = resolve_source(source, revision=revision)
    if revision is not None and rs.kind != "hub":
        raise ProtocolError(f"--revision applies to hub ids; {source!r} is a {rs.kind}: pass each local checkpoint "
                            "folder as its own MODEL instead", field="revision", value=revision)
    label = rs.hf_id or rs.name
    spec = parse_config(rs.config, name=label, source=f"{rs.kind}:{label}")
    layout = layout_for(spec, rs.config)
    if null:
        from attnscope.trajectory.null import check_null_size

        check_null_size(spec.n_params_M, null_max_params_m)
    ext = extract(SafetensorsSource(_weights_folder(rs, revision)), layout, **power)
    warnings = [*spec.warnings, *ext.warnings]
    temps, tnotes = temperature_schedules(ext, layout, **fit_kwargs)
    null_report = None
    if null:
        from attnscope.trajectory.null import random_init_source

        nsrc = random_init_source(rs.config, seed=seed, n_params_M=spec.n_params_M, max_params_M=null_max_params_m)
        next_ = extract(nsrc, layout, **power)
        del nsrc
        null_report = NullReport(seed, next_.source, next_, _fit_rows(next_, fit_kwargs), _ratios(ext, next_))
    arch = {k: getattr(spec, k) for k in ("n_layers", "d_model", "n_heads", "n_kv_heads", "d_head", "n_params_M",
                                          "query_pre_attn_scalar", "mla")}
    return ModelTrajectory(
        label=f"{label}@{revision}" if revision else label, source=source, revision=revision, kind=rs.kind,
        family=spec.family, model_type=spec.model_type, config_sha256=rs.config_sha256, arch=arch, extraction=ext,
        fits=_fit_rows(ext, fit_kwargs), temperature=temps, temperature_notes=tnotes, null=null_report, warnings=warnings)


def trajectory(models: str | os.PathLike | Sequence[str | os.PathLike], *, revisions: Sequence[str | None] | None = None,
               null: bool = True, seed: int = 0, power_max_iter: int = 300, power_tol: float = 1e-5, criterion: str = "bic",
               level: float = 0.95, ci_method: str = "wald", n_boot: int = 200, min_segment: int = 4,
               split_sims: int = 99, null_max_params_m: float = 1000.0) -> TrajectoryResult:
    """Per-layer weight-scale trajectories, fits with model selection, temperature schedules and nulls.

    Parameters
    ----------
    models : str or sequence of str
        Bundled model names, local folders (config.json + safetensors) or hub ids.
    revisions : sequence of (str or None), optional
        One per model; or several with a single model (that model at each revision,
        e.g. training checkpoints).
    null : bool
        Also extract a random-init model of the same architecture (default True).
    seed : int
        Seed of the null's initialisation, the power-iteration start vector and the bootstrap.
    power_max_iter, power_tol : power-iteration limits for the spectral norms.
    criterion : "bic" | "aic" | "aicc"
        Model-selection criterion (min wins); Akaike and BIC weights are always reported.
    level : float
        CI level in (0, 1).
    ci_method : "wald" | "bootstrap"
        Parameter CIs: Jacobian covariance with t quantiles, or residual bootstrap (``n_boot``).
    min_segment : int
        Minimum layers per segment of the piecewise exponential.
    split_sims : int
        Parametric-bootstrap curves calibrating a selected piecewise split against the
        best smooth form (0 = no test); see :mod:`attnscope.trajectory.split_test`.
    null_max_params_m : float
        Refuse to build a null larger than this (millions of parameters).

    Returns
    -------
    TrajectoryResult
    """
    import datetime as _dt
    import time

    from attnscope.io import content_key

    t0 = time.perf_counter()
    names = [str(models)] if isinstance(models, (str, os.PathLike)) else [str(m) for m in models]
    if not names:
        raise ProtocolError("give at least one model", field="models", value=names)
    revs: list[str | None] = list(revisions) if revisions else [None] * len(names)
    if len(names) == 1 and len(revs) > 1:
        names = names * len(revs)
    if len(revs) != len(names):
        raise ProtocolError(f"give one --revision per model ({len(names)}), or several revisions with one model",
                            field="revisions", value=revs)
    if criterion not in ("bic", "aic", "aicc"):
        raise ProtocolError("criterion must be bic, aic or aicc", field="criterion", value=criterion)
    if not 0.0 < level < 1.0:
        raise ProtocolError("CI level must be in (0, 1)", field="level", value=level)
    if ci_method == "bootstrap" and n_boot < 20:
        raise ProtocolError("a bootstrap needs at least 20 replicates", field="n_boot", value=n_boot)
    if ci_method not in ("wald", "bootstrap"):
        raise ProtocolError("ci_method must be wald or bootstrap", field="ci_method", value=ci_method)
    if power_max_iter < 1 or not (power_tol > 0 and math.isfinite(power_tol)):
        raise ProtocolError("power iteration needs max_iter >= 1 and tol > 0", field="power_max_iter", value=power_max_iter)
    if min_segment < 2:
        raise ProtocolError("each piecewise segment needs at least 2 layers", field="min_segment", value=min_segment)
    if split_sims < 0:
        raise ProtocolError("split_sims must be >= 0", field="split_sims", value=split_sims)
    fit_kwargs = dict(forms=ALL_FORMS, criterion=criterion, level=level, ci_method=ci_method, n_boot=n_boot, seed=seed,
                      min_segment=min_segment, split_sims=split_sims)
    power = dict(seed=seed, max_iter=power_max_iter, tol=power_tol)
    params = dict(models=names, revisions=revs, null=null, seed=seed, power_max_iter=power_max_iter, power_tol=power_tol,
                  criterion=criterion, level=level, ci_method=ci_method, n_boot=n_boot, min_segment=min_segment,
                  split_sims=split_sims, null_max_params_m=null_max_params_m)
    results = [_one(m, r, null=null, seed=seed, power=power, fit_kwargs=fit_kwargs, null_max_params_m=null_max_params_m)
               for m, r in zip(names, revs)]
    families: dict[str, list[str]] = {}
    for r in results:
        families.setdefault(r.family, []).append(r.label)
    key = content_key({"params": params, "configs": [r.config_sha256 for r in results],
                       "weights": [[(f, Path(f).stat().st_size) for f in r.extraction.files] for r in results]})
    warnings = [] if null else ["no random-init null (--no-null): trajectories are not compared with initialisation"]
    return TrajectoryResult(SCHEMA_VERSION, key, params, results, families, warnings,
                            _provenance(time.perf_counter() - t0, _dt.datetime.now(_dt.timezone.utc), results))


def _provenance(wall_s: float, now, results: list[ModelTrajectory]):
    import numpy
    import safetensors
    import scipy
    import torch
    import transformers

    import attnscope
    from attnscope.records import Provenance

    return Provenance(attnscope=attnscope.__version__, transformers=transformers.__version__, torch=torch.__version__,
                      device="cpu", dtype="float32", wall_s=round(wall_s, 3),
                      source=", ".join(r.source for r in results), created_utc=now.isoformat(timespec="seconds"),
                      extra={"numpy": numpy.__version__, "scipy": scipy.__version__, "safetensors": safetensors.__version__,
                             "statistics_dtype": "float32 tensors, float64 accumulation"})
