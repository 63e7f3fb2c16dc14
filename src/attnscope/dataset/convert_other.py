"""Conversion of the non-e4 published files: gamma fields, training trajectories, instruct pairs."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

from attnscope.dataset.convert import ArchLoader, _curve, _null, _predictions, _provenance, _theta_flags
from attnscope.io import content_key
from attnscope.records import (
    GammaFieldRecord, Measurement, MeasurementRecord, OLSFit, TrainingCheckpoint, TrainingTrajectoryRecord, UnitGamma,
)


def _finite(v) -> Optional[float]:
    return float(v) if v is not None and isinstance(v, (int, float)) and math.isfinite(v) else None


def gamma_field_record(raw: dict, relpath: str, sha: str, arch_loader: ArchLoader) -> GammaFieldRecord:
    """One exp_gamma_field file -> GammaFieldRecord (NaN entries become None)."""
    gm = [[_finite(v) for v in row] for row in raw["gamma_matrix"]]
    r2 = [[_finite(v) for v in row] for row in raw["r2_matrix"]]
    summ = raw.get("summary", {}) or {}
    revision = raw.get("revision")
    name = Path(relpath).name
    if revision is None and "_step" in name:
        revision = name.split("_step")[1].split("_")[0]
        revision = f"step{revision}"
    arch = arch_loader(raw["model"])
    q = ["corpus_unrecorded"] + [f for f in _theta_flags(raw.get("theta"), arch) if f != "theta_missing_in_file"]
    n_nan = sum(v is None for row in gm for v in row)
    if n_nan:
        q.append(f"heads_without_fit:n={n_nan}")
    low = sum(v is not None and v < 0.9 for row in r2 for v in row)
    if low:
        q.append(f"heads_R2_below_0.9:n={low}")
    seeds = [int(s) for s in raw.get("seeds", [])]
    if len(seeds) < 2 or raw.get("n_prompts", 0) < 100:
        q.append(f"reduced_run:seeds={len(seeds)},prompts={raw.get('n_prompts')}")
    if revision == "step143000":
        q.append("final_checkpoint:same weights as the unrevisioned final model")
    published = {k: v for k, v in raw.items() if k not in ("gamma_matrix", "r2_matrix")}
    key = content_key({"source": "tafagent", "file": relpath, "kind": "gamma_field", "sha256": sha})
    return GammaFieldRecord(
        key=key, model_id=raw["model"], revision=revision, arch=arch, protocol="taf-e4", corpus=None,
        n_layers=int(raw["n_layers"]), n_heads=int(raw["n_heads"]), n_prompts=int(raw.get("n_prompts", 0)),
        seeds=seeds, distances=[int(d) for d in raw["distances"]], fit_distances=[int(d) for d in raw["fit_distances"]],
        gamma=gm, R2=r2, gamma_global_fit=_finite(summ.get("gamma_global_fit")), R2_global=_finite(summ.get("r2_global")),
        summary=summ, quality=sorted(set(q)), provenance=_provenance(relpath, sha, published),
    )


def trajectory_records(traj: dict, bench: list[dict], comparison: dict, paths: dict[str, tuple[str, str]],
                       arch_loader: ArchLoader) -> list[TrainingTrajectoryRecord]:
    """training_gamma trajectory (+ EleutherAI benchmark scores by step) and the checkpoint comparison."""
    bench_by_step = {int(r["step"]): {k: _finite(v) for k, v in r.items() if k != "step"} for r in bench}
    ds = [int(d) for d in traj["distances"]]
    steps = sorted(set(int(s) for s in traj["checkpoints"]) | set(bench_by_step))
    cps = []
    for s in steps:
        c = traj["checkpoints"].get(str(s))
        if c is None:
            cps.append(TrainingCheckpoint(step=s, benchmarks=bench_by_step.get(s, {})))
            continue
        cps.append(TrainingCheckpoint(step=s, distances=ds, A=[_finite(a) for a in c["means"]], gamma=_finite(c["gamma"]),
                                      R2=_finite(c["r2"]), n_points=c.get("n_pts"), d_min=min(ds),
                                      benchmarks=bench_by_step.get(s, {})))
    model_id = traj["model_id"]
    arch = arch_loader(model_id)
    (p1, sha1), (p2, sha2) = paths["trajectory"], paths["benchmarks"]
    pub = {k: v for k, v in traj.items() if k != "checkpoints"}
    rec1 = TrainingTrajectoryRecord(
        key=content_key({"source": "tafagent", "files": [p1, p2], "sha256": [sha1, sha2]}), model_id=model_id, arch=arch,
        protocol="taf-e4", corpus=None, checkpoints=cps,
        quality=sorted(["corpus_unrecorded", "fit_d_min_10:all points fitted"] + (["arch_missing"] if arch is None else [])),
        provenance=_provenance(p1, sha1, pub, benchmarks_file=f"tafagent:data/{p2}", benchmarks_sha256=sha2),
    )
    p3, sha3 = paths["comparison"]
    cps2, q2 = [], ["corpus_unrecorded"]
    for name, c in sorted(comparison.items(), key=lambda kv: int(kv[1]["revision"].replace("step", ""))):
        step = int(c["revision"].replace("step", ""))
        A = [_finite(a) for a in c["attn_means_per_distance"]]
        g = _finite(c.get("gamma_obs"))
        if g is None:
            q2.append(f"failed_measurement:{name} (all NaN)")
        bm = {f"passkey_acc_{k}": _finite(v) for k, v in (c.get("passkey_accuracy") or {}).items()}
        bm["expected_gamma_published"] = _finite(c.get("expected_gamma"))
        cps2.append(TrainingCheckpoint(step=step, distances=ds if len(A) == len(ds) else [], A=A if len(A) == len(ds) else [],
                                       gamma=g, R2=_finite(c.get("r2")), benchmarks=bm))
    rec2 = TrainingTrajectoryRecord(
        key=content_key({"source": "tafagent", "file": p3, "sha256": sha3}), model_id=model_id, arch=arch,
        protocol="taf-e4", corpus=None, checkpoints=cps2, quality=sorted(set(q2 + (["arch_missing"] if arch is None else []))),
        provenance=_provenance(p3, sha3, {"revisions": sorted(comparison)}),
    )
    return [rec1, rec2]


def _pair_record(model_id: str, role: str, pair: str, *, gamma: float, R2: float, ab: Optional[dict], relpath: str,
                 sha: str, arch_loader: ArchLoader, published: dict[str, Any]) -> MeasurementRecord:
    arch = arch_loader(model_id)
    q = ["instruct_pair", "corpus_unrecorded", "seeds_unrecorded", "n_prompts_unrecorded"]
    q += [f for f in _theta_flags(published.get("theta"), arch) if f != "theta_missing_in_file"]
    if ab is not None:
        ds, curve = _curve(ab)
        d_min = min(ds)
        from attnscope.dataset.rederive import refit_curve

        rf = refit_curve(ds, curve.A, d_min=d_min)
        fit = OLSFit(log_A=rf.log_A, R2=rf.R2, n_points=rf.n_points, d_min=d_min, exp_lambda=rf.exp_lambda,
                     exp_R2=rf.exp_R2, delta_R2_power_minus_exp=rf.delta_R2)
        T_eval = max(ds) + 50
        null = _null(ds, d_min, gamma, None)
    else:
        ds, curve, fit, T_eval, null = [], None, None, 0, None
        q += ["summary_only:no curve; T_eval=0 means unrecorded"]
    meas = Measurement(
        gamma=gamma, ci_method="none published", method="ols_loglog", fit=fit, protocol="taf-e4", T_eval=T_eval,
        corpus="unrecorded", n_prompts_per_distance=0, seeds=[], distances=ds, precision="unrecorded", curve=curve,
        null=null, effective={"n_prompts_per_distance": "unrecorded"},
    )
    key = content_key({"source": "tafagent", "file": relpath, "pair": pair, "role": role, "sha256": sha})
    pub = dict(published, fit_power_law={"gamma": gamma, "R2": R2})
    return MeasurementRecord(key=key, model_id=model_id, arch=arch, measurement=meas,
                             predictions=_predictions(arch, T_eval), quality=sorted(set(q)),
                             provenance=_provenance(relpath, sha, pub, instruct_pair=pair, role=role))


def instruct_pair_records(real_pairs: list[dict], summary: dict, paths: dict[str, tuple[str, str]],
                          arch_loader: ArchLoader) -> list[MeasurementRecord]:
    """Base and instruct MeasurementRecords of every published pair (with curves where published)."""
    out = []
    p_real, sha_real = paths["real_pairs"]
    seen = set()
    for r in real_pairs:
        pub = {k: v for k, v in r.items() if k not in ("attn_base", "attn_instruct")}
        for role in ("base", "instruct"):
            out.append(_pair_record(r[role], role, r["pair"], gamma=r[f"gamma_{role}"], R2=r[f"R2_{role}"],
                                    ab=r.get(f"attn_{role}"), relpath=p_real, sha=sha_real, arch_loader=arch_loader,
                                    published=pub))
        seen.add(r["pair"])
    p_sum, sha_sum = paths["summary"]
    for r in summary.get("pairs", []):
        if r["pair"] in seen:
            continue
        for role in ("base", "instruct"):
            out.append(_pair_record(r[role], role, r["pair"], gamma=r[f"gamma_{role}"], R2=r[f"R2_{role}"], ab=None,
                                    relpath=p_sum, sha=sha_sum, arch_loader=arch_loader, published=dict(r)))
    return out


def layerwise_record(raw: dict, relpath: str, sha: str, arch_loader: ArchLoader) -> MeasurementRecord:
    """Per-layer gamma file (corpus not recorded) -> MeasurementRecord with ``per_layer``."""
    arch = arch_loader(raw["model"])
    per_layer = []
    for layer, v in sorted(raw["layer_gamma"].items(), key=lambda kv: int(kv[0])):
        g = v.get("gamma")
        ok = g is not None and math.isfinite(g) and v.get("n_points", 0) >= 2
        per_layer.append(UnitGamma(layer=int(layer), gamma=g if ok else None, R2=v.get("R2") if ok else None))
    curves = {str(k): {str(d): (a if a is not None and math.isfinite(a) else None) for d, a in v.items()}
              for k, v in raw["per_layer_agg"].items()}
    ds = [int(d) for d in raw["distances"]]
    meas = Measurement(
        gamma=None, ci_method="none: per-layer gammas only (no CI published)", method="ols_loglog per layer",
        protocol="taf-e4", T_eval=max(ds) + 50, corpus="unrecorded", corpus_original_label=None,
        n_prompts_per_distance=int(raw.get("n_prompts", 0)), seeds=[int(s) for s in raw.get("seeds", [])],
        distances=ds, precision="unrecorded", per_layer=per_layer,
    )
    published = {k: v for k, v in raw.items() if k not in ("per_layer_agg",)}
    q = ["layerwise", "corpus_unrecorded"] + _theta_flags(raw.get("theta"), arch)
    if any(u.gamma is None for u in per_layer):
        q.append("layers_without_fit")
    key = content_key({"source": "tafagent", "file": relpath, "kind": "measurement", "sha256": sha})
    return MeasurementRecord(key=key, model_id=raw["model"], arch=arch, measurement=meas, quality=sorted(set(q)),
                             provenance=_provenance(relpath, sha, published, per_layer_curves=curves))
