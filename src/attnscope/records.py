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
    R2: float = Field(description="R^2 of the power law in log space")
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


class NullBaseline(_Model):
    """Uniform-attention null computed on the exact grid and query set used."""

    gamma_uniform: float
    excess: float
    excess_ci95_lo: Optional[float] = None
    excess_ci95_hi: Optional[float] = None
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
    provenance: Provenance


def json_schema() -> dict[str, Any]:
    """The JSON Schema of every record kind, keyed by kind."""
    return {"measurement": MeasurementRecord.model_json_schema()}
