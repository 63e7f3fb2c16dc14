"""Convert the published TAF measurement files into attnscope records.

Source: ``karlesmarin/tafagent`` ``data/`` (Apache-2.0, Copyright 2026 Carles Marin),
as copied to ``../shared/data/tafagent`` with its NOTICE.md. Every raw file ends up in
the manifest as ``converted`` (with the keys of its records) or ``excluded`` (with the
reason). Dispositions by file family:

- ``e4_gamma/<model>_<corpus>.json`` with fits: MeasurementRecord, corpus "mongo" -> "text".
- ``*.partial.json`` and status "partial" files: MeasurementRecord with quality ``partial``
  (no published fit: attnscope's OLS re-fit, no CI); byte-identical copies are excluded
  as duplicates.
- ``*_kaggle.json``: MeasurementRecord with quality ``kaggle_rerun`` (means only).
- ``*_layerwise.json``: MeasurementRecord with per-layer gammas, quality ``layerwise``.
- ``exp_gamma_field/*gamma_field.json``: GammaFieldRecord.
- ``training_gamma`` + ``checkpoint_eval``: TrainingTrajectoryRecord.
- ``rlhf_gamma``: base / instruct MeasurementRecords (see :mod:`convert_other`).
- analysis summaries, KV-compression sweeps, raw lm-eval outputs: excluded with a reason.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from attnscope.errors import RecordError
from attnscope.io import content_key
from attnscope.records import (
    Curve, Measurement, MeasurementRecord, NullBaseline, OLSFit, Predictions, Provenance,
)

LICENSE_NOTE = ("karlesmarin/tafagent data/ (Apache-2.0, Copyright 2026 Carles Marin); "
                "'Predicting How Transformers Attend' (Marin 2026, DOI 10.5281/zenodo.19826343)")
CORPUS_MAP = {"mongo": "text", "random": "random", "mongo_sim": "text"}
ArchLoader = Callable[[str], Optional[dict]]


@dataclass
class FileDisposition:
    """What happened to one raw file."""

    path: str
    sha256: str
    disposition: str  # "converted" | "excluded"
    reason: str
    record_keys: list[str] = field(default_factory=list)


@dataclass
class Conversion:
    """Everything the conversion produced."""

    measurements: list = field(default_factory=list)
    gamma_fields: list = field(default_factory=list)
    trajectories: list = field(default_factory=list)
    manifest: list[FileDisposition] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seed_mad: float = float("nan")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def default_arch_loader(warnings: list[str]) -> ArchLoader:
    """ArchSpec (as a JSON dict) from the bundled presets by HF id; None + a warning when missing."""
    cache: dict[str, Optional[dict]] = {}

    def load(hf_id: str) -> Optional[dict]:
        if hf_id in cache:
            return cache[hf_id]
        try:
            from attnscope.arch import load_arch

            spec = load_arch(hf_id).model_dump(mode="json")
        except ImportError as exc:
            warnings.append(f"arch: attnscope.arch unavailable ({exc}); {hf_id} has arch=null")
            spec = None
        except Exception as exc:  # noqa: BLE001 - any resolution failure is recorded, never hidden
            warnings.append(f"arch: no preset for {hf_id} ({type(exc).__name__}: {exc}); arch=null")
            spec = None
        cache[hf_id] = spec
        return spec

    return load


def finite_json(obj: Any) -> Any:
    """Replace NaN/inf (bare NaN appears in the published files) by None, recursively: strict JSON out."""
    import math

    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    return obj


def _provenance(relpath: str, sha: str, published: dict[str, Any], **extra) -> Provenance:
    from attnscope import __version__

    return Provenance(attnscope=__version__, source=f"tafagent:data/{relpath}",
                      extra=finite_json({"published": published, "file_sha256": sha, "license": LICENSE_NOTE,
                                         "non_finite_values": "NaN/inf in the source are stored as null", **extra}))


def _theta_flags(file_theta, arch: Optional[dict]) -> list[str]:
    flags = []
    if file_theta is None:
        flags.append("theta_missing_in_file")
    if arch is None:
        flags.append("arch_missing")
    elif file_theta is not None and arch.get("rope_theta") is not None and float(arch["rope_theta"]) != float(file_theta):
        flags.append(f"theta_mismatch:file={file_theta},config={arch['rope_theta']}")
    return flags


def _predictions(arch: Optional[dict], T_eval: int) -> Predictions:
    """gamma_Pade from the config's theta and the record's evaluation length (theory/, one formula)."""
    if not arch or T_eval <= 0:
        return Predictions(notes=["gamma_pade not computed: no ArchSpec" if not arch else "no evaluation length"])
    if arch.get("position_encoding") != "rope" or arch.get("rope_theta") is None:
        return Predictions(notes=[f"gamma_pade does not apply: position_encoding={arch.get('position_encoding')}"])
    from attnscope.theory import gamma_pade, gamma_random_pred
    from attnscope.theory.constants import NU_IMPRINT

    gp = gamma_pade(float(arch["rope_theta"]), float(T_eval))
    n_params = arch.get("n_params_M")
    return Predictions(gamma_pade=gp, T_used=T_eval,
                       gamma_random_pred=gamma_random_pred(gp, n_params * 1e6) if n_params else None,
                       imprint_constant_nu=NU_IMPRINT.value if n_params else None,
                       notes=["T_used = T_eval = longest taf-e4 sequence (d_max + 50)",
                              "gamma_random_pred = gamma_pade + nu log10(P/14M), P = ArchSpec.n_params_M"])


def _null(distances: list[int], d_min: int, gamma: Optional[float], seed_ci) -> Optional[NullBaseline]:
    """Uniform-attention null on the record's own grid (taf-e4: A = 1/(d+50)); verdict from the seed CI."""
    from attnscope.dataset.rederive import refit_curve
    from attnscope.measure.fits import uniform_null_taf_e4

    fit_d = [d for d in distances if d >= d_min]
    if gamma is None or len(fit_d) < 2:
        return None
    g_u = refit_curve(fit_d, uniform_null_taf_e4(fit_d), d_min=d_min).gamma
    lo = hi = None
    verdict = "decays faster than uniform" if gamma > g_u else "decays slower than uniform"
    if seed_ci is not None:
        lo, hi = seed_ci[0] - g_u, seed_ci[1] - g_u
        if lo <= 0 <= hi:
            verdict = "indistinguishable from uniform attention"
    return NullBaseline(gamma_uniform=g_u, excess=gamma - g_u, excess_ci95_lo=lo, excess_ci95_hi=hi, verdict=verdict)


def _curve(ab: dict) -> tuple[list[int], Curve]:
    ds = sorted(int(k) for k in ab)
    rows = [ab[str(d)] if str(d) in ab else ab[d] for d in ds]
    rows = [r if isinstance(r, dict) else {"mean_across_seeds": r} for r in rows]
    per_seed = [r.get("per_seed_means") for r in rows]
    has_seeds = all(p is not None for p in per_seed)
    sd = [r.get("std_across_seeds") for r in rows]
    curve = Curve(distances=ds, A=[float(r["mean_across_seeds"]) for r in rows], A_ci95_lo=[None] * len(ds),
                  A_ci95_hi=[None] * len(ds), A_per_seed=per_seed if has_seeds else None,
                  A_sd_across_seeds=sd if any(v is not None for v in sd) else None)
    return ds, curve


def e4_record(raw: dict, relpath: str, sha: str, corpus_label: str, arch_loader: ArchLoader,
              quality: list[str], *, seed_mad: float) -> MeasurementRecord:
    """One e4 decay-curve file (full, partial or Kaggle) -> MeasurementRecord."""
    from attnscope.dataset.rederive import MIN_FIT_POINTS_FLAG, R2_FLAG, refit_curve, seed_cluster_ci, seed_outliers

    model_id = raw["model"]
    arch = arch_loader(model_id)
    ds, curve = _curve(raw["attn_by_distance"])
    d_min = int(raw.get("d_min_fit", 30))
    seeds = [int(s) for s in raw.get("seeds", [])]
    published = {k: v for k, v in raw.items() if k != "attn_by_distance"}
    q = list(quality) + _theta_flags(raw.get("theta"), arch)
    if "fit_power_law" in raw:
        fp, fe = raw["fit_power_law"], raw["fit_exponential"]
        gamma, ci = fp["gamma"], raw.get("gamma_CI_95") or {}
        fit = OLSFit(log_A=fp["log_A"], R2=fp["R2"], n_points=fp["n_points"], d_min=d_min, exp_lambda=fe["lambda"],
                     exp_R2=fe["R2"], delta_R2_power_minus_exp=raw.get("delta_R2_power_minus_exp"))
        ci_method = ("percentile bootstrap over the fit points (as published; reproduced by attnscope "
                     "re-derivation; n_boot and RNG not recorded)")
        lo, hi = ci.get("lo"), ci.get("hi")
    else:
        rf = refit_curve(ds, curve.A, d_min=d_min)
        gamma, lo, hi = rf.gamma, None, None
        fit = OLSFit(log_A=rf.log_A, R2=rf.R2, n_points=rf.n_points, d_min=d_min, exp_lambda=rf.exp_lambda,
                     exp_R2=rf.exp_R2, delta_R2_power_minus_exp=rf.delta_R2)
        ci_method = "none: the source file has no published fit; gamma is attnscope's OLS re-fit"
    if fit.n_points <= MIN_FIT_POINTS_FLAG:
        q.append(f"fit_le_3_points:n={fit.n_points}")
    if fit.R2 < R2_FLAG:
        q.append(f"R2_below_0.9:R2={fit.R2:.4f}")
    seed_ci = None
    if curve.A_per_seed is not None and len(seeds) >= 2:
        q += seed_outliers(ds, curve.A_per_seed, seeds, d_min=d_min, mad=seed_mad)
        seed_ci = seed_cluster_ci(ds, curve.A_per_seed, d_min=d_min)
    T_eval = max(ds) + 50
    n_prompts = raw.get("n_prompts_per_distance")
    if n_prompts is None:
        q.append("n_prompts_unrecorded")
    if not seeds:
        q.append("seeds_unrecorded")
    meas = Measurement(
        gamma=gamma, gamma_ci95_lo=lo, gamma_ci95_hi=hi, ci_method=ci_method, method="ols_loglog", fit=fit,
        protocol="taf-e4", T_eval=T_eval, corpus=CORPUS_MAP.get(corpus_label, corpus_label),
        corpus_original_label=corpus_label, n_prompts_per_distance=int(n_prompts or 0), seeds=seeds,
        distances=ds, precision="unrecorded", curve=curve, null=_null(ds, d_min, gamma, seed_ci),
        requested={}, effective={"n_prompts_per_distance": n_prompts if n_prompts is not None else "unrecorded"},
    )
    extra = {}
    if seed_ci is not None:
        extra["seed_cluster_ci95"] = {"lo": seed_ci[0], "hi": seed_ci[1], "n_resamples": seed_ci[2],
                                      "method": "exact seed-cluster bootstrap of the seed-mean curve"}
    key = content_key({"source": "tafagent", "file": relpath, "kind": "measurement", "sha256": sha})
    return MeasurementRecord(
        key=key, model_id=model_id, arch=arch, measurement=meas, predictions=_predictions(arch, T_eval),
        decision=raw.get("decision"), quality=sorted(set(q)), provenance=_provenance(relpath, sha, published, **extra),
    )


def load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        # the published files contain bare NaN, which Python's json accepts; anything else is malformed
        raise RecordError("not valid JSON", field="path", value=str(path)) from None


# --- orchestration -------------------------------------------------------------------------
def convert_tafagent(src: str | Path, *, arch_loader: ArchLoader | None = None) -> Conversion:
    """Convert every file under ``src`` (the published ``data/`` folder) into records + a manifest.

    Parameters
    ----------
    src : path
        The published data folder (``../shared/data/tafagent``).
    arch_loader : callable, optional
        HF id -> ArchSpec as a JSON dict (or None). Default: the bundled presets via
        :func:`attnscope.arch.load_arch`; failures become ``arch=None`` plus a warning.

    Returns
    -------
    Conversion
        Records of the three kinds, the manifest (one :class:`FileDisposition` per raw
        file: converted with record keys, excluded with a reason, or copied), warnings
        and the panel MAD of the seed log-deviations used by the outlier rule.

    Raises
    ------
    RecordError
        ``src`` is not a folder, or a file is not valid JSON.
    """
    from attnscope.dataset import convert_other as co
    from attnscope.dataset.exclusions import EXCLUDE_DIRS, EXCLUDE_REASONS, artefact_notes
    from attnscope.dataset.rederive import panel_mad, seed_log_deviations

    src = Path(src)
    if not src.is_dir():
        raise RecordError("source folder of the published data not found", field="src", value=str(src))
    conv = Conversion()
    load_arch_ = arch_loader or default_arch_loader(conv.warnings)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    rel = {p: p.relative_to(src).as_posix() for p in files}
    sha = {p: sha256_file(p) for p in files}
    done: dict[str, FileDisposition] = {}

    def mark(p: Path, disposition: str, reason: str, keys: list[str] | None = None) -> None:
        done[rel[p]] = FileDisposition(rel[p], sha[p], disposition, reason, keys or [])

    # duplicates (byte-identical): keep the non-.partial name
    by_sha: dict[str, list[Path]] = {}
    for p in files:
        by_sha.setdefault(sha[p], []).append(p)
    for group in by_sha.values():
        if len(group) > 1:
            keep = sorted(group, key=lambda q: (".partial" in q.name, rel[q]))[0]
            for q in group:
                if q != keep:
                    mark(q, "excluded", f"duplicate: byte-identical to {rel[keep]}")

    e4 = [p for p in files if rel[p].startswith("e4_gamma/") and rel[p] not in done and rel[p] not in EXCLUDE_REASONS]
    raws = {p: load_json(p) for p in e4}
    conv.seed_mad = panel_mad([
        seed_log_deviations(sorted(int(k) for k in r["attn_by_distance"]),
                            [r["attn_by_distance"][k]["per_seed_means"] for k in sorted(r["attn_by_distance"], key=int)],
                            d_min=int(r.get("d_min_fit", 30)))
        for r in raws.values() if isinstance(r.get("attn_by_distance"), dict)
        and all(isinstance(v, dict) and v.get("per_seed_means") for v in r["attn_by_distance"].values())
    ])
    artefacts = artefact_notes(src)
    for p in e4:
        raw, name = raws[p], p.name
        if name.endswith("_layerwise.json"):
            rec = co.layerwise_record(raw, rel[p], sha[p], load_arch_)
            conv.measurements.append(rec)
            mark(p, "converted", "per-layer gammas (quality: layerwise)", [rec.key])
            continue
        stem = name.replace(".partial.json", "").replace("_kaggle.json", "").replace(".json", "")
        prefix, corpus = stem.rsplit("_", 1)
        q = []
        if name.endswith("_kaggle.json"):
            corpus = raw.get("corpus", corpus)
            q += ["kaggle_rerun", f"platform:{raw.get('platform', 'unrecorded')}"]
        if raw.get("status") == "partial" or name.endswith(".partial.json"):
            q.append(f"partial:distances_done<= {max(int(k) for k in raw['attn_by_distance'])}")
        rec = e4_record(raw, rel[p], sha[p], corpus, load_arch_, q, seed_mad=conv.seed_mad)
        note = artefacts.get((prefix, round(float(rec.measurement.gamma), 6)))
        if note is not None:
            rec = rec.model_copy(update={"quality": sorted(set(rec.quality) | {f"marked_artefact:{note}"})})
        conv.measurements.append(rec)
        mark(p, "converted", "decay curve" + (f" (quality: {', '.join(q)})" if q else ""), [rec.key])

    for p in files:
        r = rel[p]
        if r in done:
            continue
        if r in EXCLUDE_REASONS:
            mark(p, "excluded", EXCLUDE_REASONS[r])
        elif r == "NOTICE.md":
            mark(p, "copied", "licence and attribution notice, shipped as data/tafagent/NOTICE.md")
        elif r.startswith("exp_gamma_field/") and r.endswith("gamma_field.json"):
            rec = co.gamma_field_record(load_json(p), r, sha[p], load_arch_)
            conv.gamma_fields.append(rec)
            mark(p, "converted", "per-layer x per-head gamma field", [rec.key])
        else:
            for d, reason in EXCLUDE_DIRS.items():
                if r.startswith(d + "/"):
                    mark(p, "excluded", reason)
                    break
    # trajectories and instruct pairs (multi-file records)
    tp = {k: src / v for k, v in {"trajectory": "training_gamma/pythia-70m_gamma_trajectory.json",
                                   "benchmarks": "checkpoint_eval/eleutherai_benchmarks_pythia70m.json",
                                   "comparison": "checkpoint_eval/pythia-70m_checkpoint_comparison.json",
                                   "real_pairs": "rlhf_gamma/rlhf_real_pairs.json",
                                   "summary": "rlhf_gamma/rlhf_summary.json"}.items()}
    if all(p.exists() for p in tp.values()):
        paths = {k: (rel[p], sha[p]) for k, p in tp.items()}
        trajs = co.trajectory_records(load_json(tp["trajectory"]), load_json(tp["benchmarks"]),
                                      load_json(tp["comparison"]), paths, load_arch_)
        conv.trajectories += trajs
        mark(tp["trajectory"], "converted", "Pythia-70m training trajectory", [trajs[0].key])
        mark(tp["benchmarks"], "converted", "benchmark scores merged into the trajectory record", [trajs[0].key])
        mark(tp["comparison"], "converted", "checkpoint comparison (2 revisions)", [trajs[1].key])
        pairs = co.instruct_pair_records(load_json(tp["real_pairs"]), load_json(tp["summary"]), paths, load_arch_)
        conv.measurements += pairs
        for k in ("real_pairs", "summary"):
            mark(tp[k], "converted", "base vs instruct pair(s)",
                 [x.key for x in pairs if x.provenance.source == f"tafagent:data/{rel[tp[k]]}"])
    for p in files:
        if rel[p] not in done:
            mark(p, "excluded", "unrecognised file (no converter); listed so nothing is silently dropped")
    conv.manifest = [done[rel[p]] for p in files]
    return conv
