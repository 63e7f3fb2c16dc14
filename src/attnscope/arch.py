"""config.json → typed :class:`ArchSpec`, without torch or transformers.

The raw JSON is parsed directly (transformers-v5 moved ``rope_theta`` into
``rope_parameters`` and its config attributes raise, so config classes are never
used). Every family in :data:`attnscope.archparse.families.FAMILIES` is handled;
other model types get a best-effort parse with each guessed field listed in
``warnings``. Values the reference implementation fixes when a key is absent
(e.g. GPT-J's hard-coded θ = 10000) are applied and listed in ``notes``.

Public API: :class:`ArchSpec`, :func:`parse_config`, :func:`resolve_source`,
:func:`load_arch`, :func:`list_presets` (+ :class:`ResolvedSource`, :class:`PresetInfo`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from attnscope.archparse.parse import config_sha256, parse
from attnscope.archparse.sources import ResolvedSource, preset_index, resolve

__all__ = ["ArchSpec", "LayerGroup", "PresetInfo", "ResolvedSource", "config_sha256", "list_presets",
           "load_arch", "parse_config", "resolve_source"]


@dataclass(frozen=True)
class LayerGroup:
    """Layers sharing one attention geometry (layer type, θ, window)."""

    layer_type: str
    rope_theta: float | None
    window: int | None
    layers: tuple[int, ...]


class ArchSpec(BaseModel):
    """Typed architecture of a language model, read from its config.json.

    Lengths are in tokens, θ is the RoPE base (dimensionless), parameter counts in
    millions. Per-layer lists have ``n_layers`` entries (``layer_window`` None = full
    causal attention). ``rope_scaling`` is ``{type, factor, original_max_position_embeddings,
    ...}`` for the full-attention layers, or None. ``T_train`` is the pre-scaling
    training context; ``context_length`` the maximum supported context.
    ``n_params_active_M`` (MoE only) excludes the input-embedding lookup.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    model_type: str | None
    position_encoding: Literal["rope", "alibi", "absolute", "none"]
    d_model: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    rotary_dim: int | None
    rope_theta: float | None
    layer_rope_theta: list[float | None]
    sliding_window: int | None
    layer_window: list[int | None]
    layer_types: list[str] | None
    rope_scaling: dict[str, Any] | None
    T_train: int | None
    context_length: int | None
    n_params_M: float
    n_params_active_M: float | None
    is_moe: bool
    is_instruct: bool
    vocab_size: int
    intermediate_size: int | None
    tie_word_embeddings: bool
    attn_logit_softcapping: float | None
    final_logit_softcapping: float | None
    query_pre_attn_scalar: float | None
    mla: dict[str, int | None] | None
    alibi: bool
    multi_query: bool
    name: str
    source: str
    config_sha256: str
    warnings: list[str]
    notes: list[str] = []

    @property
    def has_attention(self) -> bool:
        """False for attention-free models (Mamba)."""
        return self.n_heads > 0

    @property
    def rotary_fraction(self) -> float | None:
        """rotary_dim / d_head (1.0 = full rotary), None without RoPE."""
        if self.rotary_dim is None or not self.d_head:
            return None
        return self.rotary_dim / self.d_head

    def layer_groups(self) -> list[LayerGroup]:
        """Layers grouped by (layer type, θ, window), in order of first appearance."""
        types = self.layer_types or ["full_attention"] * self.n_layers
        groups: dict[tuple, list[int]] = {}
        for i, key in enumerate(zip(types, self.layer_rope_theta, self.layer_window)):
            groups.setdefault(key, []).append(i)
        return [LayerGroup(t, th, w, tuple(ix)) for (t, th, w), ix in groups.items()]


def parse_config(cfg: dict[str, Any], *, name: str | None = None, source: str = "dict") -> ArchSpec:
    """Parse a raw config.json dict into an :class:`ArchSpec`.

    Parameters
    ----------
    cfg : dict
        The raw config (multimodal configs with a nested ``text_config`` accepted).
    name : str, optional
        Display name (default: ``_name_or_path`` or ``model_type``); also used to detect
        instruction-tuned models (``instruct``, ``chat``, ``-it``).
    source : str
        Where the config came from, recorded verbatim.

    Raises
    ------
    ConfigError
        Not a JSON object, a required key missing (the error names it), inconsistent shapes.
    DomainError
        θ ≤ 0, a non-positive size.
    """
    return ArchSpec(**parse(cfg, name=name, source=source))


def resolve_source(source: str, *, revision: str | None = None) -> ResolvedSource:
    """Find a model's config.json.

    Order: bundled trained model ``src/attnscope/models/<name>/`` → preset name or its
    HF id (case-insensitive) → local folder → config.json path → hub id via
    huggingface_hub (offline: a one-line :class:`~attnscope.errors.ModelSourceError`
    saying what to do).
    """
    return resolve(source, revision=revision)


def load_arch(source: str, *, revision: str | None = None) -> ArchSpec:
    """:func:`resolve_source` then :func:`parse_config`."""
    rs = resolve_source(source, revision=revision)
    label = f"{rs.kind}:{rs.hf_id or rs.name}"
    return parse_config(rs.config, name=rs.hf_id or rs.name, source=label)


@dataclass(frozen=True)
class PresetInfo:
    """One bundled preset: its HF id, family, estimated and published parameter counts."""

    name: str
    hf_id: str
    family: str
    n_params_M: float
    n_params_active_M: float | None
    n_params_published_M: float | None
    n_params_source: str | None
    rope_theta: float | None
    T_train: int | None
    position_encoding: str
    note: str | None = None


def list_presets() -> list[PresetInfo]:
    """All bundled presets, parsed (a few ms each), sorted by family then size."""
    out = []
    for name, info in preset_index().items():
        spec = load_arch(name)
        out.append(PresetInfo(
            name=name, hf_id=info["hf_id"], family=spec.family, n_params_M=spec.n_params_M,
            n_params_active_M=spec.n_params_active_M,
            n_params_published_M=info.get("n_params_published_M"), n_params_source=info.get("n_params_source"),
            rope_theta=spec.rope_theta, T_train=spec.T_train, position_encoding=spec.position_encoding,
            note=info.get("note"),
        ))
    return sorted(out, key=lambda p: (p.family, p.n_params_M))
