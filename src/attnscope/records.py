"""Pydantic record schemas: one model per JSONL line.

Every command that measures writes records; every consumer (report, dataset
score, panel) reads them. ``attnscope schema`` prints the JSON Schema.
Units go in names (``_tokens``, ``_nats``, ``_s``). Fields follow the published
dataset schema (model_id, revision, arch, measurement{...}, predictions,
decision, provenance) and add curves, nulls, MLE fits and per-layer/head fields.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OLSFit(_Model):
    """Log-log OLS power law ln A = log_A - gamma ln d, and the exponential ln A = a - lambda d."""

    log_A: float
    R2: Optional[float] = Field(description="R^2 of the power law in log space; None when ln A is constant (a flat curve)")
    n_points: int
    d_min: int
    exp_lambda: Optional[float] = None
    exp_R2: Optional[float] = None
    delta_R2_power_minus_exp: Optional[float] = None


class Curve(_Model):
    """The decay curve A(d) with percentile-bootstrap CIs over prompts."""

    distances: list[int]
    A: list[float]
    A_ci95_lo: list[Optional[float]]
    A_ci95_hi: list[Optional[float]]
    A_per_seed: Optional[list[list[Optional[float]]]] = Field(
        default=None, description="per-seed means of A(d), indexed [distance][seed] (dataset records)")
    A_sd_across_seeds: Optional[list[Optional[float]]] = Field(
        default=None, description="standard deviation of the per-seed means at each distance, as published")


class NullBaseline(_Model):
    """Uniform-attention null computed on the exact grid and query set used."""

    gamma_uniform: float
    excess: float
    excess_ci95_lo: Optional[float] = None
    excess_ci95_hi: Optional[float] = None
    A_uniform: Optional[list[float]] = Field(default=None, description="A(d) of uniform attention on the same grid and queries")
    verdict: Literal[
        "indistinguishable from uniform attention",
        "decays faster than uniform",
        "decays slower than uniform",
    ]


class MLEFit(_Model):
    """Discrete truncated power law vs geometric decay, fitted per row by cross-entropy."""

    gamma: float
    gamma_ci95_lo: Optional[float] = None
    gamma_ci95_hi: Optional[float] = None
    lambda_geom: float
    loglik_ratio_power_minus_geom: float = Field(description="mean per-row log-likelihood ratio, nats; > 0 favours the power law")
    d_min: int
    d_max: int
    n_rows: int
    loglik_ratio_ci95_lo: Optional[float] = None
    loglik_ratio_ci95_hi: Optional[float] = None
    gamma_uniform: Optional[float] = Field(default=None, description="MLE gamma of uniform rows on the same window (0)")
    n_at_bound: Optional[int] = Field(default=None, description="(layer, head) units whose gamma hit the search bound")
    pooling: Optional[str] = Field(default=None, description="how per-head fits are pooled, e.g. 'mean over heads, then layers'")
    ci_method: Optional[str] = None


class UnitGamma(_Model):
    """gamma for one layer (head=None) or one (layer, head)."""

    layer: int
    head: Optional[int] = None
    gamma: Optional[float]
    gamma_ci95_lo: Optional[float] = None
    gamma_ci95_hi: Optional[float] = None
    R2: Optional[float] = None
    sink_mass: Optional[float] = None
    excess: Optional[float] = None
    mle_gamma: Optional[float] = None
    mle_gamma_ci95_lo: Optional[float] = None
    mle_gamma_ci95_hi: Optional[float] = None
    entropy_nats: Optional[float] = Field(default=None, description="mean entropy of the sampled rows (nats)")
    log_z: Optional[float] = Field(default=None, description="mean log partition function of the sampled rows")


class Measurement(_Model):
    gamma: Optional[float]
    gamma_ci95_lo: Optional[float] = None
    gamma_ci95_hi: Optional[float] = None
    ci_method: str = Field(description="e.g. 'percentile bootstrap over prompts (n_boot=1000, seed=0)'")
    n_boot: Optional[int] = None
    method: str = Field(description="fit method of the headline gamma, e.g. 'ols_loglog'")
    fit: Optional[OLSFit] = None
    protocol: Literal["rows", "taf-e4"]
    T_eval: int = Field(description="evaluation sequence length in tokens (taf-e4: the longest, d_max + 50)")
    corpus: str = Field(description="'text' or 'random' (or 'file:<name>')")
    corpus_original_label: Optional[str] = Field(default=None, description="label in the source data, e.g. 'mongo'")
    n_prompts_per_distance: int
    seeds: list[int]
    distances: list[int]
    precision: str
    curve: Optional[Curve] = None
    null: Optional[NullBaseline] = None
    mle: Optional[MLEFit] = None
    sink_mass: Optional[float] = Field(default=None, description="mean attention mass on the sink key (position 0 / BOS)")
    per_layer: Optional[list[UnitGamma]] = None
    per_head: Optional[list[UnitGamma]] = None
    n_query_positions: Optional[int] = None
    sink_mass_ci95_lo: Optional[float] = None
    sink_mass_ci95_hi: Optional[float] = None
    random_init: bool = Field(default=False, description="weights freshly initialised (the falsifier), not the trained ones")
    requested: dict[str, Any] = Field(default_factory=dict, description="requested counts (prompts, seeds, ...)")
    effective: dict[str, Any] = Field(default_factory=dict, description="effective counts actually used")


class Predictions(_Model):
    gamma_pade: Optional[float] = None
    gamma_random_pred: Optional[float] = None
    imprint_constant_nu: Optional[float] = None
    T_used: Optional[int] = None
    notes: list[str] = Field(default_factory=list)


class Provenance(_Model):
    attnscope: str
    transformers: Optional[str] = None
    torch: Optional[str] = None
    device: Optional[str] = None
    dtype: Optional[str] = None
    wall_s: Optional[float] = None
    config_sha256: Optional[str] = None
    git_commit: Optional[str] = None
    source: Optional[str] = Field(default=None, description="where the record came from: a model path, a dataset file, ...")
    created_utc: Optional[str] = None
    extra: dict[str, Any] = Field(default_factory=dict)


class MeasurementRecord(_Model):
    """One attention-decay measurement of one (model, revision, corpus, protocol, precision)."""

    schema_version: str = SCHEMA_VERSION
    kind: Literal["measurement"] = "measurement"
    key: str = Field(description="sha256 of the canonical JSON of every input that changes the output")
    model_id: str
    revision: Optional[str] = None
    arch: Optional[dict[str, Any]] = None
    measurement: Measurement
    predictions: Predictions = Field(default_factory=Predictions)
    decision: Optional[str] = None
    quality: list[str] = Field(default_factory=list, description="data-quality flags (dataset records); empty = clean")
    warnings: list[str] = Field(default_factory=list, description="choices made for the user (defaults, fallbacks)")
    provenance: Provenance


class GammaFieldRecord(_Model):
    """Per-layer x per-head gamma matrices of one model (revision), e.g. the published exp_gamma_field files."""

    schema_version: str = SCHEMA_VERSION
    kind: Literal["gamma_field"] = "gamma_field"
    key: str = Field(description="sha256 of the canonical JSON of every input that changes the output")
    model_id: str
    revision: Optional[str] = Field(default=None, description="checkpoint, e.g. 'step1000'; None = final weights")
    arch: Optional[dict[str, Any]] = None
    protocol: Literal["rows", "taf-e4"]
    corpus: Optional[str] = Field(default=None, description="'text' or 'random'; None when the source does not record it")
    corpus_original_label: Optional[str] = None
    n_layers: int
    n_heads: int
    n_prompts: int
    seeds: list[int]
    distances: list[int]
    fit_distances: list[int]
    gamma: list[list[Optional[float]]] = Field(description="[layer][head] OLS gamma; None where the fit failed")
    R2: list[list[Optional[float]]] = Field(description="[layer][head] R^2 of the log-log fit")
    gamma_global_fit: Optional[float] = Field(default=None, description="gamma of the head-averaged curve, as published")
    R2_global: Optional[float] = None
    summary: dict[str, Any] = Field(default_factory=dict, description="published summary statistics, verbatim")
    quality: list[str] = Field(default_factory=list, description="data-quality flags; empty = clean")
    provenance: Provenance


class TrainingCheckpoint(_Model):
    """One checkpoint of a training trajectory: the decay curve, its fit and benchmark scores."""

    step: int
    distances: list[int] = Field(default_factory=list)
    A: list[Optional[float]] = Field(default_factory=list)
    gamma: Optional[float] = None
    R2: Optional[float] = None
    n_points: Optional[int] = None
    d_min: Optional[int] = None
    benchmarks: dict[str, Optional[float]] = Field(default_factory=dict, description="e.g. lambada_ppl, piqa (EleutherAI evals)")


class TrainingTrajectoryRecord(_Model):
    """gamma (and benchmark scores) across the training checkpoints of one model."""

    schema_version: str = SCHEMA_VERSION
    kind: Literal["training_trajectory"] = "training_trajectory"
    key: str = Field(description="sha256 of the canonical JSON of every input that changes the output")
    model_id: str
    arch: Optional[dict[str, Any]] = None
    protocol: Literal["rows", "taf-e4"]
    corpus: Optional[str] = None
    corpus_original_label: Optional[str] = None
    checkpoints: list[TrainingCheckpoint]
    quality: list[str] = Field(default_factory=list, description="data-quality flags; empty = clean")
    provenance: Provenance


def json_schema() -> dict[str, Any]:
    """The JSON Schema of every record kind, keyed by kind."""
    return {
        "measurement": MeasurementRecord.model_json_schema(),
        "gamma_field": GammaFieldRecord.model_json_schema(),
        "training_trajectory": TrainingTrajectoryRecord.model_json_schema(),
        "atlas": AtlasRecord.model_json_schema(),
    }


# ---------------------------------------------------------------- head atlas (attnscope atlas)
class AtlasOverlap(_Model):
    """Mean pairwise subspace overlap of one layer's heads, with the random-subspace null."""

    mean: float = Field(description="mean over head pairs of the mean cosine of principal angles (ATLAS O_h)")
    mean_cos2: float
    ci95: tuple[float, float]
    ci_method: str
    null_mean: float
    null_q025: float
    null_q975: float
    null_cos2: float = Field(description="k / ambient_dim: the exact null expectation of mean cos^2")
    excess: float
    z_score: float
    verdict: str
    intra_group_mean: Optional[float] = None
    inter_group_mean: Optional[float] = None
    matrix: list[list[float]]
    matrix_cos2: list[list[float]]


class AtlasDim(_Model):
    estimate: float
    ci95: tuple[Optional[float], Optional[float]] = Field(description="(None, None) where no CI is computed")


class AtlasHeadDims(_Model):
    head: int
    twonn: AtlasDim
    twonn_mle: AtlasDim
    levina_bickel: AtlasDim
    pca_rank_90: Optional[int] = None
    participation_ratio: Optional[float] = None


class AtlasSpace(_Model):
    space: Literal["head", "residual", "atlas_residual"]
    ambient_dim: int
    overlap: Optional[AtlasOverlap] = None
    dims: list[AtlasHeadDims] = Field(default_factory=list)
    dims_ci_method: Optional[str] = None


class HeadThermo(_Model):
    """Row thermodynamics (nats) of one head (``head=None``: the layer's mean over heads),
    mean over the probed rows, CI by a percentile bootstrap over prompts."""

    head: Optional[int]
    beta: float
    F: float
    E: float
    S: float
    eff_keys: float
    C: float
    S_ci95: tuple[float, float]
    C_ci95: tuple[float, float]


class AtlasLayer(_Model):
    layer: int
    spaces: list[AtlasSpace]
    thermo: list[HeadThermo] = Field(default_factory=list)
    thermo_layer: list[HeadThermo] = Field(default_factory=list, description="per beta: the mean over heads (head=None)")
    notes: list[str] = Field(default_factory=list)


class AtlasRecord(_Model):
    """One head atlas of one model (``attnscope atlas``)."""

    schema_version: str = SCHEMA_VERSION
    kind: Literal["atlas"] = "atlas"
    key: str
    model_id: str
    revision: Optional[str] = None
    arch: Optional[dict[str, Any]] = None
    params: dict[str, Any]
    layers: list[AtlasLayer]
    warnings: list[str] = Field(default_factory=list)
    provenance: Provenance
