"""Per-family tensor name maps: which checkpoint tensor holds which per-layer row.

A *row* is one per-layer quantity (``input_ln``, ``q``, ``gate`` ...). Its
:class:`RowSpec` names the tensor relative to the layer prefix (e.g.
``self_attn.q_proj.weight`` under ``model.layers.{i}.``) and, for fused
matrices, how to cut the piece out (by the ArchSpec head counts).

Row vocabulary (the same in every family):

- norms: ``input_ln`` (the norm right before attention), ``post_attn_ln`` (the
  checkpoint's ``post_attention_layernorm`` / ``ln_2``: the pre-MLP norm in
  pre-norm families, a norm on the attention *output* in gemma2/gemma3/olmo2),
  ``pre_ff_ln``, ``post_ff_ln``, ``q_norm``, ``k_norm`` (per-head or full-width
  query/key norms), MLA's ``q_a_norm``, ``kv_a_norm``;
- projections: ``q``, ``k``, ``v``, ``o``, ``gate``, ``up``, ``down`` and
  family-specific ones (MLA ``q_a``, ``q_b``, ``kv_a``, ``kv_b``; MoE
  ``shared_gate``/``shared_up``/``shared_down``, ``router``; Mamba ``in_proj``,
  ``x_proj``, ``dt_proj``, ``out_proj``).

A family that legitimately lacks a tensor simply has no such row; the reasons
are listed in :attr:`Layout.absent` (e.g. OLMo-1 uses non-parametric LayerNorm).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from attnscope.errors import UnsupportedModelError

NormType = Literal["rmsnorm", "layernorm", "none"]
# How a piece is cut out of a fused matrix (weights stored [out, in] unless noted):
#   "rows":        consecutive blocks along dim 0, sizes given by ``sizes``
#   "cols":        consecutive blocks along dim 1 (GPT-2 Conv1D stores [in, out])
#   "heads3":      view(H, 3, d_head, in) -> piece j   (gpt_neox, bloom, falcon non-MQA)
#   "falcon_mqa":  view(H + 2, d_head, in): q = [:H], k = [H], v = [H+1]
#   "falcon_gqa":  view(n_kv, H/n_kv + 2, d_head, in): q = [:, :-2], k = [:, -2], v = [:, -1]
Split = Literal["rows", "cols", "heads3", "falcon_mqa", "falcon_gqa"]


class ArchLike(Protocol):
    """The ArchSpec fields the name maps use (attnscope.arch.ArchSpec satisfies it)."""

    family: str
    model_type: str
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    d_model: int


@dataclass(frozen=True)
class RowSpec:
    """One per-layer row: the tensor (relative to the layer prefix) and how to read it."""

    name: str
    kind: Literal["norm", "proj"]
    tensor: str
    split: Split | None = None
    piece: int = 0
    sizes: tuple[int, ...] = ()
    gain_offset: float = 0.0  # effective gain = stored weight + gain_offset (Gemma: 1 + w)
    layers: tuple[int, ...] | None = None  # None = every layer
    in_axis: int = 1  # axis of the input dimension: 1 for [out, in] (nn.Linear), 0 for GPT-2's Conv1D [in, out]


@dataclass(frozen=True)
class Layout:
    """Where a family keeps its per-layer tensors and how to interpret them."""

    family: str
    prefixes: tuple[str, ...]  # candidate layer prefixes, "{i}" = layer index
    rows: tuple[RowSpec, ...]
    n_layers: int
    norm_type: NormType
    gain_convention: str  # "w" or "1+w"
    qk_norm: Literal["none", "per_head", "full"] = "none"
    has_attention: bool = True
    input_ln_feeds_qk: bool = True  # input_ln directly precedes the q/k projections
    d_head: int = 0
    n_heads: int = 0
    n_kv_heads: int = 0
    absent: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    inverse_layer_logit_scale: bool = False  # GPT-2 scale_attn_by_inverse_layer_idx: logits / (L + 1)
    warnings: tuple[str, ...] = ()  # reference defaults applied for keys the config lacks


LLAMA_PREFIXES = ("model.layers.{i}.", "model.language_model.layers.{i}.", "language_model.model.layers.{i}.")
_ATTN = (("q", "self_attn.q_proj.weight"), ("k", "self_attn.k_proj.weight"),
         ("v", "self_attn.v_proj.weight"), ("o", "self_attn.o_proj.weight"))
_MLP = (("gate", "mlp.gate_proj.weight"), ("up", "mlp.up_proj.weight"), ("down", "mlp.down_proj.weight"))


def _proj(pairs) -> list[RowSpec]:
    return [RowSpec(n, "proj", t) for n, t in pairs]


def _norm(name: str, tensor: str, offset: float = 0.0) -> RowSpec:
    return RowSpec(name, "norm", tensor, gain_offset=offset)


def _llama_like(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    fam = spec.family
    off = 1.0 if fam in ("gemma", "gemma2", "gemma3") else 0.0
    rows = []
    absent: list[str] = []
    qk = "none"
    if fam == "olmo":
        absent.append("all norm rows: OLMo-1 uses non-parametric LayerNorm (no gain tensors)")
    elif fam == "olmo2":
        absent.append("input_ln: OLMo-2 normalises sublayer outputs (post-norm), no pre-attention norm")
        rows += [_norm("post_attn_ln", "post_attention_layernorm.weight"), _norm("post_ff_ln", "post_feedforward_layernorm.weight")]
    else:
        rows += [_norm("input_ln", "input_layernorm.weight", off), _norm("post_attn_ln", "post_attention_layernorm.weight", off)]
    if fam in ("gemma2", "gemma3"):
        rows += [_norm("pre_ff_ln", "pre_feedforward_layernorm.weight", off), _norm("post_ff_ln", "post_feedforward_layernorm.weight", off)]
    if fam in ("qwen3", "gemma3", "olmo2"):
        rows += [_norm("q_norm", "self_attn.q_norm.weight", off), _norm("k_norm", "self_attn.k_norm.weight", off)]
        qk = "full" if fam == "olmo2" else "per_head"
    rows += _proj(_ATTN) + _proj(_MLP)
    return dict(prefixes=LLAMA_PREFIXES, rows=rows, norm_type="layernorm" if fam == "olmo" else "rmsnorm",
                gain_convention="1+w" if off else "w", qk_norm=qk, absent=absent,
                input_ln_feeds_qk=fam != "olmo2")


# OLMo reference ModelConfig defaults (allenai/OLMo olmo/config.py), used when an hf_olmo config lacks the key
_HF_OLMO_DEFAULTS = {"layer_norm_with_affine": True, "attention_layer_norm": False,
                     "attention_layer_norm_with_affine": True, "norm_after": False, "layer_norm_type": "default"}


def _hf_olmo(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    """Original OLMo checkpoints (model_type hf_olmo, e.g. DataDecide): fused att_proj and ff_proj."""
    warnings = [f"hf_olmo config lacks {k!r}; the OLMo reference default {v!r} is used"
                for k, v in _HF_OLMO_DEFAULTS.items() if k not in cfg]
    get = lambda k: cfg.get(k, _HF_OLMO_DEFAULTS[k])  # noqa: E731
    h, kv, dh, d = spec.n_heads, spec.n_kv_heads, spec.d_head, spec.d_model
    width = int(cfg.get("mlp_hidden_size") or int(cfg.get("mlp_ratio") or 0) * d)
    rows: list[RowSpec] = []
    absent: list[str] = []
    post = bool(get("norm_after"))
    if get("layer_norm_with_affine"):
        rows += [_norm("post_attn_ln" if post else "input_ln", "attn_norm.weight"),
                 _norm("post_ff_ln" if post else "post_attn_ln", "ff_norm.weight")]
    else:
        absent.append("all block norm rows: layer_norm_with_affine is false (non-parametric LayerNorm)")
    qk = "none"
    if get("attention_layer_norm"):
        if get("attention_layer_norm_with_affine"):
            rows += [_norm("q_norm", "q_norm.weight"), _norm("k_norm", "k_norm.weight")]
            qk = "full"
        else:
            absent.append("q_norm, k_norm: non-parametric (attention_layer_norm_with_affine is false)")
    rows += [RowSpec(n, "proj", "att_proj.weight", "rows", j, (h * dh, kv * dh, kv * dh)) for j, n in enumerate("qkv")]
    rows += [RowSpec("o", "proj", "attn_out.weight")]
    # SwiGLU: x, gate = ff_proj(x).chunk(2); silu(gate) * x -> the first half is "up", the second "gate"
    rows += [RowSpec(n, "proj", "ff_proj.weight", "rows", j, (width // 2, width // 2)) for j, n in enumerate(("up", "gate"))]
    rows += [RowSpec("down", "proj", "ff_out.weight")]
    return dict(prefixes=("model.transformer.blocks.{i}.", "transformer.blocks.{i}."), rows=rows,
                norm_type="rmsnorm" if get("layer_norm_type") == "rms" else "layernorm", gain_convention="w",
                qk_norm=qk, absent=absent, input_ln_feeds_qk=not post, warnings=warnings)


def _phi3(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    h, kv, dh = spec.n_heads, spec.n_kv_heads, spec.d_head
    qkv = (h * dh, kv * dh, kv * dh)
    inter = int(cfg.get("intermediate_size") or 0)
    rows = [_norm("input_ln", "input_layernorm.weight"), _norm("post_attn_ln", "post_attention_layernorm.weight")]
    rows += [RowSpec(n, "proj", "self_attn.qkv_proj.weight", "rows", j, qkv) for j, n in enumerate("qkv")]
    rows += [RowSpec("o", "proj", "self_attn.o_proj.weight")]
    rows += [RowSpec(n, "proj", "mlp.gate_up_proj.weight", "rows", j, (inter, inter)) for j, n in enumerate(("gate", "up"))]
    rows += [RowSpec("down", "proj", "mlp.down_proj.weight")]
    return dict(prefixes=LLAMA_PREFIXES, rows=rows, norm_type="rmsnorm", gain_convention="w")


def _phi(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    rows = [_norm("input_ln", "input_layernorm.weight")]
    absent = ["post_attn_ln: phi runs attention and MLP in parallel off one input norm"]
    if cfg.get("qk_layernorm"):
        rows += [_norm("q_norm", "self_attn.q_layernorm.weight"), _norm("k_norm", "self_attn.k_layernorm.weight")]
    rows += _proj((("q", "self_attn.q_proj.weight"), ("k", "self_attn.k_proj.weight"), ("v", "self_attn.v_proj.weight"),
                   ("o", "self_attn.dense.weight"), ("up", "mlp.fc1.weight"), ("down", "mlp.fc2.weight")))
    absent.append("gate: phi's MLP is fc1 -> GELU -> fc2 (no gate)")
    return dict(prefixes=LLAMA_PREFIXES, rows=rows, norm_type="layernorm", gain_convention="w",
                qk_norm="per_head" if cfg.get("qk_layernorm") else "none", absent=absent)


def _neox_like(spec: ArchLike, cfg: dict[str, Any], *, attn: str, prefixes: tuple[str, ...]) -> dict[str, Any]:
    rows = [_norm("input_ln", "input_layernorm.weight"), _norm("post_attn_ln", "post_attention_layernorm.weight")]
    rows += [RowSpec(n, "proj", f"{attn}.query_key_value.weight", "heads3", j) for j, n in enumerate("qkv")]
    rows += _proj((("o", f"{attn}.dense.weight"), ("up", "mlp.dense_h_to_4h.weight"), ("down", "mlp.dense_4h_to_h.weight")))
    return dict(prefixes=prefixes, rows=rows, norm_type="layernorm", gain_convention="w",
                absent=["gate: the MLP is dense_h_to_4h -> GELU -> dense_4h_to_h (no gate)"])


def _gpt_neox(spec, cfg):
    return _neox_like(spec, cfg, attn="attention", prefixes=("gpt_neox.layers.{i}.", "layers.{i}."))


def _bloom(spec, cfg):
    return _neox_like(spec, cfg, attn="self_attention", prefixes=("transformer.h.{i}.", "h.{i}."))


def _falcon(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    new = bool(cfg.get("new_decoder_architecture", False))
    n_ln = cfg.get("num_ln_in_parallel_attn")
    if n_ln is None and new:
        n_ln = 2  # transformers' FalconDecoderLayer applies the same rule
    rows: list[RowSpec] = []
    absent: list[str] = []
    if not cfg.get("parallel_attn", True):
        rows += [_norm("input_ln", "input_layernorm.weight"), _norm("post_attn_ln", "post_attention_layernorm.weight")]
    elif n_ln == 2:
        rows += [_norm("input_ln", "ln_attn.weight"), _norm("pre_ff_ln", "ln_mlp.weight")]
    else:
        rows += [_norm("input_ln", "input_layernorm.weight")]
        absent.append("post_attn_ln: parallel attention/MLP share one input norm")
    split = "falcon_gqa" if new else ("falcon_mqa" if cfg.get("multi_query", True) else "heads3")
    rows += [RowSpec(n, "proj", "self_attention.query_key_value.weight", split, j) for j, n in enumerate("qkv")]
    rows += _proj((("o", "self_attention.dense.weight"), ("up", "mlp.dense_h_to_4h.weight"), ("down", "mlp.dense_4h_to_h.weight")))
    absent.append("gate: the MLP is dense_h_to_4h -> GELU -> dense_4h_to_h (no gate)")
    return dict(prefixes=("transformer.h.{i}.", "h.{i}."), rows=rows, norm_type="layernorm", gain_convention="w", absent=absent)


def _gpt2(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    d = spec.d_model
    rows = [_norm("input_ln", "ln_1.weight"), _norm("post_attn_ln", "ln_2.weight")]
    rows += [RowSpec(n, "proj", "attn.c_attn.weight", "cols", j, (d, d, d), in_axis=0) for j, n in enumerate("qkv")]
    rows += [RowSpec(n, "proj", t, in_axis=0) for n, t in (("o", "attn.c_proj.weight"), ("up", "mlp.c_fc.weight"), ("down", "mlp.c_proj.weight"))]
    inv = bool(cfg.get("scale_attn_by_inverse_layer_idx", False))
    notes = ["GPT-2 Conv1D weights are stored [in, out]; Frobenius and spectral norms do not depend on it"]
    if inv:
        notes.append("scale_attn_by_inverse_layer_idx: logits are divided by (L + 1); included in the qk_proj logit gain")
    return dict(prefixes=("transformer.h.{i}.", "h.{i}."), rows=rows, norm_type="layernorm", gain_convention="w",
                absent=["gate: the MLP is c_fc -> GELU -> c_proj (no gate)"], notes=notes, inverse_layer_logit_scale=inv)


def _gptj(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    rows = [_norm("input_ln", "ln_1.weight")]
    rows += _proj((("q", "attn.q_proj.weight"), ("k", "attn.k_proj.weight"), ("v", "attn.v_proj.weight"),
                   ("o", "attn.out_proj.weight"), ("up", "mlp.fc_in.weight"), ("down", "mlp.fc_out.weight")))
    return dict(prefixes=("transformer.h.{i}.", "h.{i}."), rows=rows, norm_type="layernorm", gain_convention="w",
                absent=["post_attn_ln: GPT-J runs attention and MLP in parallel off ln_1", "gate: no gated MLP"])


def _deepseek(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    n = spec.n_layers
    first_dense = int(cfg.get("first_k_dense_replace") or 0)
    moe = cfg.get("n_routed_experts") not in (None, 0)
    dense_layers = tuple(range(n)) if not moe else tuple(range(min(first_dense, n)))
    moe_layers = tuple(i for i in range(n) if i not in dense_layers)
    rows = [_norm("input_ln", "input_layernorm.weight"), _norm("post_attn_ln", "post_attention_layernorm.weight")]
    if cfg.get("q_lora_rank") is None:
        rows += [RowSpec("q", "proj", "self_attn.q_proj.weight")]
    else:
        rows += [RowSpec("q_a", "proj", "self_attn.q_a_proj.weight"), _norm("q_a_norm", "self_attn.q_a_layernorm.weight"),
                 RowSpec("q_b", "proj", "self_attn.q_b_proj.weight")]
    rows += [RowSpec("kv_a", "proj", "self_attn.kv_a_proj_with_mqa.weight"), _norm("kv_a_norm", "self_attn.kv_a_layernorm.weight"),
             RowSpec("kv_b", "proj", "self_attn.kv_b_proj.weight"), RowSpec("o", "proj", "self_attn.o_proj.weight")]
    if dense_layers:
        rows += [RowSpec(r, "proj", t, layers=dense_layers) for r, t in _MLP]
    if moe_layers:
        rows += [RowSpec(f"shared_{r}", "proj", f"mlp.shared_experts.{r}_proj.weight", layers=moe_layers) for r in ("gate", "up", "down")]
        rows += [RowSpec("router", "proj", "mlp.gate.weight", layers=moe_layers)]
    return dict(prefixes=LLAMA_PREFIXES, rows=rows, norm_type="rmsnorm", gain_convention="w",
                absent=["k, v: MLA stores kv_a (compression) and kv_b (decompression) instead",
                        "routed experts: not read (hundreds of matrices per layer); the shared experts and router are"])


def _mamba(spec: ArchLike, cfg: dict[str, Any]) -> dict[str, Any]:
    rows = [_norm("input_ln", "norm.weight")]
    rows += _proj((("in_proj", "mixer.in_proj.weight"), ("x_proj", "mixer.x_proj.weight"),
                   ("dt_proj", "mixer.dt_proj.weight"), ("out_proj", "mixer.out_proj.weight")))
    return dict(prefixes=("backbone.layers.{i}.", "layers.{i}."), rows=rows, norm_type="rmsnorm", gain_convention="w",
                has_attention=False, absent=["attention rows: Mamba has no attention"])


_BUILDERS = {
    "llama": _llama_like, "mistral": _llama_like, "qwen2": _llama_like, "qwen3": _llama_like,
    "gemma": _llama_like, "gemma2": _llama_like, "gemma3": _llama_like, "olmo": _llama_like, "olmo2": _llama_like,
    "phi": _phi, "phi3": _phi3, "gpt_neox": _gpt_neox, "bloom": _bloom, "falcon": _falcon, "gpt2": _gpt2,
    "gptj": _gptj, "deepseek_v2": _deepseek, "deepseek_v3": _deepseek, "mamba": _mamba,
}

SUPPORTED_FAMILIES = tuple(sorted(_BUILDERS))


def layout_for(spec: ArchLike, cfg: dict[str, Any]) -> Layout:
    """The tensor layout of ``spec.family``.

    Parameters
    ----------
    spec : ArchSpec
        Parsed architecture (family, head counts, n_layers).
    cfg : dict
        The raw config.json (text sub-config for multimodal wrappers), for
        family-specific switches (falcon's ``new_decoder_architecture``, deepseek's
        ``first_k_dense_replace``, phi's ``qk_layernorm`` ...).

    Raises
    ------
    UnsupportedModelError
        The family has no name map (e.g. ``unknown``).
    """
    builder = _hf_olmo if spec.model_type == "hf_olmo" else _BUILDERS.get(spec.family)
    if builder is None:
        raise UnsupportedModelError(
            f"no tensor name map for this family (model_type {spec.model_type!r}); supported: {', '.join(SUPPORTED_FAMILIES)}",
            field="family", value=spec.family)
    text_cfg = cfg.get("text_config") if isinstance(cfg.get("text_config"), dict) else cfg
    parts = builder(spec, text_cfg)
    return Layout(family=spec.family, n_layers=spec.n_layers, d_head=spec.d_head, n_heads=spec.n_heads,
                  n_kv_heads=spec.n_kv_heads, prefixes=tuple(parts.pop("prefixes")), rows=tuple(parts.pop("rows")),
                  absent=tuple(parts.pop("absent", ())), notes=tuple(parts.pop("notes", ())),
                  warnings=tuple(parts.pop("warnings", ())), **parts)
