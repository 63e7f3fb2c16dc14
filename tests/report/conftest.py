"""Fixtures for the report tests: records built from the pydantic models with planted values,
a real tiny trajectory JSON and a real tiny measurement (random-init 2-layer Llama)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from attnscope.io import content_key
from attnscope.measure.fits import fit_exp_ols, fit_power_ols, uniform_null_taf_e4
from attnscope.records import (
    AtlasDim, AtlasHeadDims, AtlasLayer, AtlasOverlap, AtlasRecord, AtlasSpace, Curve, GammaFieldRecord, HeadThermo,
    Measurement, MeasurementRecord, NullBaseline, OLSFit, Predictions, Provenance, TrainingCheckpoint,
    TrainingTrajectoryRecord, UnitGamma,
)
from attnscope.theory.pade import gamma_pade

ARCH = dict(family="llama", model_type="llama", position_encoding="rope", d_model=64, n_layers=3, n_heads=4,
            n_kv_heads=2, d_head=16, rotary_dim=16, rope_theta=500000.0, layer_rope_theta=[500000.0] * 3,
            sliding_window=None, layer_window=[None] * 3, layer_types=None, rope_scaling=None, T_train=2048,
            context_length=2048, n_params_M=1.5, n_params_active_M=None, is_moe=False, is_instruct=False,
            vocab_size=300, intermediate_size=128, tie_word_embeddings=False, attn_logit_softcapping=None,
            final_logit_softcapping=None, query_pre_attn_scalar=None, mla=None, alibi=False, multi_query=False,
            name="planted-model", source="test", config_sha256="ab" * 32, warnings=[])
PROV = Provenance(attnscope="0.1.0", transformers="5.23.0", torch="2.13.0+cpu", device="cpu", dtype="float32",
                  wall_s=1.25, config_sha256="ab" * 32, source="tests/report", created_utc="2026-11-24T09:00:00+00:00")


def planted_measurement(gamma: float = 0.8312, *, corpus: str = "text", L: int = 3, H: int = 4,
                        random_init: bool = False) -> MeasurementRecord:
    """A taf-e4 record whose A(d) is an exact power law d^-gamma; fits computed by attnscope's estimator."""
    d = [10, 20, 30, 50, 100, 200, 500, 1000, 2000]
    A = [0.05 * x ** -gamma for x in d]
    fit, efit = fit_power_ols(d, A, d_min=30), fit_exp_ols(d, A, d_min=30)
    null_A = uniform_null_taf_e4(d).tolist()
    g_uni = -fit_power_ols(d, null_A, d_min=30).slope
    rng = np.random.default_rng(0)
    per_layer = [UnitGamma(layer=l, gamma=gamma + 0.05 * l, gamma_ci95_lo=gamma + 0.05 * l - 0.04,
                           gamma_ci95_hi=gamma + 0.05 * l + 0.05, R2=0.99, excess=gamma + 0.05 * l - g_uni)
                 for l in range(L)]
    per_head = [UnitGamma(layer=l, head=h, gamma=float(gamma + rng.normal(0, 0.2)), R2=0.9) for l in range(L)
                for h in range(H)]
    m = Measurement(
        gamma=-fit.slope, gamma_ci95_lo=-fit.slope - 0.0408, gamma_ci95_hi=-fit.slope + 0.0489,
        ci_method="cluster bootstrap over 30 prompts (n_boot=1000, seed=0); percentile", n_boot=1000,
        method="ols_loglog",
        fit=OLSFit(log_A=fit.intercept, R2=fit.R2, n_points=fit.n_points, d_min=30, exp_lambda=-efit.slope, exp_R2=efit.R2,
                   delta_R2_power_minus_exp=fit.R2 - efit.R2),
        protocol="taf-e4", T_eval=2050, corpus=corpus, n_prompts_per_distance=30, seeds=[42, 123, 7], distances=d,
        precision="float32",
        curve=Curve(distances=d, A=A, A_ci95_lo=[a * 0.93 for a in A], A_ci95_hi=[a * 1.08 for a in A]),
        null=NullBaseline(gamma_uniform=g_uni, excess=-fit.slope - g_uni, excess_ci95_lo=-fit.slope - g_uni - 0.0408,
                          excess_ci95_hi=-fit.slope - g_uni + 0.0489, A_uniform=null_A,
                          verdict="decays faster than uniform" if -fit.slope - g_uni - 0.0408 > 0 else
                          "indistinguishable from uniform attention"),
        sink_mass=0.3141, sink_mass_ci95_lo=0.2990, sink_mass_ci95_hi=0.3302, per_layer=per_layer, per_head=per_head,
        random_init=random_init, requested={"prompts": 10}, effective={"prompts": 10})
    params = dict(gamma=gamma, corpus=corpus, random_init=random_init)
    return MeasurementRecord(key=content_key(params), model_id="planted-model", arch=ARCH, measurement=m,
                             predictions=Predictions(gamma_pade=gamma_pade(500000.0, 2050), T_used=2050),
                             decision="measured", warnings=["T defaulted to 2050"], provenance=PROV)


def planted_atlas(L: int = 2, H: int = 4, k: int = 3) -> AtlasRecord:
    rng = np.random.default_rng(1)
    layers = []
    for l in range(L):
        spaces = []
        for space, dim in (("head", 16), ("residual", 64)):
            M = rng.uniform(0.2, 0.9, (H, H))
            M = (M + M.T) / 2
            np.fill_diagonal(M, 1.0)
            mean = float(M[np.triu_indices(H, 1)].mean())
            ov = AtlasOverlap(mean=mean, mean_cos2=mean ** 2, ci95=(mean - 0.03, mean + 0.04),
                              ci_method="percentile bootstrap over prompts (n_boot=200)", null_mean=0.2811,
                              null_q025=0.2512, null_q975=0.3123, null_cos2=k / dim, excess=mean - 0.2811,
                              z_score=(mean - 0.2811) / 0.015, verdict="above the random-subspace null",
                              matrix=M.tolist(), matrix_cos2=(M ** 2).tolist())
            dims = [AtlasHeadDims(head=h, twonn=AtlasDim(estimate=5.0 + h, ci95=(4.5 + h, 5.5 + h)),
                                  twonn_mle=AtlasDim(estimate=5.2 + h, ci95=(4.7 + h, 5.7 + h)),
                                  levina_bickel=AtlasDim(estimate=4.1, ci95=(3.9, 4.3)), pca_rank_90=8,
                                  participation_ratio=6.5) for h in range(H)]
            spaces.append(AtlasSpace(space=space, ambient_dim=dim, overlap=ov, dims=dims,
                                     dims_ci_method="delete-a-group jackknife over prompts"))
        thermo = [HeadThermo(head=h, beta=b, F=-3.0, E=0.1, S=3.0 + 0.1 * h + 0.01 * l, eff_keys=20.0, C=0.5,
                             S_ci95=(2.9 + 0.1 * h, 3.1 + 0.1 * h), C_ci95=(0.4, 0.6)) for b in (0.5, 1.0, 2.0)
                  for h in range(H)]
        layers.append(AtlasLayer(layer=l, spaces=spaces, thermo=thermo, notes=["planted layer"]))
    return AtlasRecord(key=content_key({"atlas": L}), model_id="planted-model", arch=ARCH,
                       params={"k": k, "tokens": 500, "seed": 0}, layers=layers, provenance=PROV)


def planted_gamma_field() -> GammaFieldRecord:
    g = [[0.5 + 0.1 * l + 0.01 * h for h in range(4)] for l in range(3)]
    g[1][2] = None
    return GammaFieldRecord(key=content_key({"field": 1}), model_id="EleutherAI/pythia-70m", protocol="taf-e4",
                            corpus="text", n_layers=3, n_heads=4, n_prompts=20, seeds=[42], distances=[10, 100, 1000],
                            fit_distances=[100, 1000], gamma=g, R2=[[0.95] * 4 for _ in range(3)],
                            gamma_global_fit=0.6789, R2_global=0.97, provenance=PROV)


def planted_training() -> TrainingTrajectoryRecord:
    cps = [TrainingCheckpoint(step=s, gamma=0.2 + 0.1 * i, R2=0.9, benchmarks={"piqa": 0.55 + 0.02 * i})
           for i, s in enumerate([0, 1000, 10000, 143000])]
    return TrainingTrajectoryRecord(key=content_key({"train": 1}), model_id="EleutherAI/pythia-160m",
                                    protocol="taf-e4", checkpoints=cps, provenance=PROV)


def planted_panel() -> list[MeasurementRecord]:
    """Panel records: γ = γ_Padé(θ, 2050) + a planted offset; one flagged record that must be excluded."""
    out = []
    for i, theta in enumerate([1e4, 1e4, 5e5, 1e6, 1e6]):
        rec = planted_measurement(gamma_pade(theta, 2050) + 0.01 * i)
        arch = dict(ARCH, rope_theta=theta, name=f"panel-{i}")
        out.append(rec.model_copy(update=dict(model_id=f"panel/model-{i}", arch=arch, key=f"panel{i}")))
    flagged = out[0].model_copy(update=dict(model_id="panel/flagged", key="flagged", quality=["partial"]))
    return out + [flagged]


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    """Input files: a results JSONL (2 records), an atlas JSON, a gamma-field + training JSONL."""
    d = tmp_path_factory.mktemp("report_inputs")
    res = d / "results.jsonl"
    recs = [planted_measurement(), planted_measurement(0.4, corpus="random", random_init=True)]
    res.write_text("".join(r.model_dump_json() + "\n" for r in recs))
    atlas = d / "atlas.json"
    atlas.write_text(planted_atlas().model_dump_json(indent=1))
    other = d / "other.jsonl"
    other.write_text(planted_gamma_field().model_dump_json() + "\n" + planted_training().model_dump_json() + "\n")
    return dict(dir=d, results=res, atlas=atlas, other=other, records=recs)


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    """A saved 4-layer random-init Llama (config.json + model.safetensors)."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rope_theta=10000.0)
    folder = tmp_path_factory.mktemp("models") / "tiny-report"
    AutoModelForCausalLM.from_config(cfg).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def trajectory_file(tiny_folder, tmp_path_factory):
    """A real ``attnscope trajectory`` result JSON of the tiny folder."""
    from attnscope.cli._common import to_jsonable
    from attnscope.trajectory import trajectory

    path = tmp_path_factory.mktemp("traj") / "traj.json"
    path.write_text(json.dumps(to_jsonable(trajectory(str(tiny_folder))), indent=1, allow_nan=False))
    return path
