"""Raw config.json dict → the field dict of :class:`attnscope.arch.ArchSpec`.

Reads the raw JSON only (never transformers' config classes). Values the family's
reference implementation uses when a key is absent are applied and listed in
``notes``; anything inferred without such a rule is listed in ``warnings``.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from attnscope.archparse.families import FAMILY_OF_MODEL_TYPE, TRAITS, Traits
from attnscope.archparse.keys import Ctx, as_float, as_int
from attnscope.archparse.layout import layer_types, window_size
from attnscope.archparse.params import MoE, Dims, dense_params, mamba_params, mla_moe_params, vit_params
from attnscope.archparse.rope import FULL, SLIDING, parse_rope
from attnscope.errors import ConfigError

D_KEYS = ("hidden_size", "n_embd", "d_model")
L_KEYS = ("num_hidden_layers", "n_layer", "n_layers", "num_layers")
H_KEYS = ("num_attention_heads", "n_head", "n_heads", "num_heads")
KV_KEYS = ("num_key_value_heads", "num_kv_heads", "n_kv_heads", "multi_query_group_num")
V_KEYS = ("vocab_size", "padded_vocab_size")
I_KEYS = ("intermediate_size", "n_inner", "ffn_hidden_size", "ffn_dim", "mlp_hidden_size")
CTX_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "seq_length", "max_sequence_length",
            "max_seq_len")
ROPE_HINTS = ("rope_theta", "rope_scaling", "rope_parameters", "rotary_dim", "rotary_pct",
              "rotary_emb_base", "partial_rotary_factor")
_INSTRUCT = re.compile(r"(instruct|chat|[-_]it(?![a-z0-9])|[-_]sft|[-_]dpo|rlhf)", re.IGNORECASE)

#: Gemma3TextConfig defaults (transformers), used when a sparse gemma3 export omits a key
GEMMA3_TEXT_DEFAULTS: dict[str, Any] = {
    "vocab_size": 262208, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
    "max_position_embeddings": 131072, "rope_theta": 1_000_000.0, "rope_local_base_freq": 10_000.0,
    "query_pre_attn_scalar": 256, "sliding_window": 4096, "hidden_activation": "gelu_pytorch_tanh",
}


def config_sha256(cfg: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no whitespace) of a config dict."""
    try:
        text = json.dumps(cfg, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config is not JSON-serialisable ({exc})", field="config", value=None) from None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text_config(cfg: dict[str, Any], notes: list[str]) -> tuple[dict[str, Any], dict | None]:
    tc = cfg.get("text_config")
    if isinstance(tc, dict) and not any(k in cfg for k in L_KEYS):
        notes.append("language model read from the nested text_config")
        vc = cfg.get("vision_config")
        return dict(tc), vc if isinstance(vc, dict) else None
    return cfg, None


def parse(cfg: Any, *, name: str | None, source: str) -> dict[str, Any]:
    """Parse a raw config dict into ArchSpec fields (see :func:`attnscope.arch.parse_config`)."""
    if not isinstance(cfg, dict):
        raise ConfigError("a model config must be a JSON object", field="config", value=type(cfg).__name__)
    sha = config_sha256(cfg)
    warnings: list[str] = []
    notes: list[str] = []
    text, vision = _text_config(cfg, notes)
    top_type = cfg.get("model_type")
    model_type = text.get("model_type") or top_type
    for where, mt in (("model_type", top_type), ("text_config.model_type", text.get("model_type"))):
        if mt is not None and not isinstance(mt, str):
            raise ConfigError("expected a string", field=where, value=mt)
    family = FAMILY_OF_MODEL_TYPE.get(model_type) or FAMILY_OF_MODEL_TYPE.get(top_type) or "unknown"
    if family == "gemma3":
        text = dict(text)  # never mutate the caller's dict
        for k, v in GEMMA3_TEXT_DEFAULTS.items():
            if k in ("rope_theta", "rope_local_base_freq") and text.get("rope_parameters") is not None:
                continue  # v5 configs carry θ inside rope_parameters
            if k not in text:
                text[k] = v
                notes.append(f"{k} absent: {v} is the Gemma3TextConfig default")
    ctx = Ctx(text, warnings, notes)
    if family == "unknown":
        warnings.append(f"unknown model_type {model_type!r}: best-effort parse from common keys")
    label = " ".join(str(s) for s in (name or "", source, cfg.get("_name_or_path") or ""))
    out: dict[str, Any] = dict(family=family, model_type=str(model_type) if model_type else None,
                               name=str(name or cfg.get("_name_or_path") or model_type or "config"),
                               source=source, config_sha256=sha, is_instruct=bool(_INSTRUCT.search(label)))
    if not out["is_instruct"] and not name and not cfg.get("_name_or_path"):
        warnings.append("is_instruct: no model name to read it from, assumed a base model")

    d = ctx.req_int(D_KEYS)
    L = ctx.req_int(L_KEYS)
    V = ctx.req_int(V_KEYS)
    tied = _tied(ctx, family)
    out.update(d_model=d, n_layers=L, vocab_size=V, tie_word_embeddings=tied)
    if family == "mamba":
        return _mamba(ctx, out, d, L, V, tied)
    H = ctx.req_int(H_KEYS)
    KV = _kv_heads(ctx, family, H)
    if H % KV:
        raise ConfigError(f"num_attention_heads={H} is not a multiple of the KV heads", field="num_key_value_heads",
                          value=KV)
    mla = _mla(ctx) if family in ("deepseek_v2", "deepseek_v3") or ctx.has("kv_lora_rank") else None
    if mla:
        d_head = mla["qk_nope_head_dim"] + mla["qk_rope_head_dim"]
    elif ctx.has("head_dim"):
        d_head = ctx.req_int(("head_dim",))
    else:
        if d % H:
            raise ConfigError(f"hidden size {d} is not divisible by {H} heads and no head_dim is given",
                              field="head_dim", value=None)
        d_head = d // H
    I = _intermediate(ctx, family, d)
    out.update(n_heads=H, n_kv_heads=KV, d_head=d_head, intermediate_size=I, mla=mla,
               multi_query=KV == 1)

    pe = _position_encoding(ctx, family)
    out["position_encoding"], out["alibi"] = pe, pe == "alibi"
    types = layer_types(ctx, family, L)
    window = window_size(ctx, family, types)
    out["layer_types"], out["sliding_window"] = types, window
    out["layer_window"] = [window if t == SLIDING else None for t in types] if types else [None] * L
    _rope_fields(ctx, out, family, pe, types, d_head, mla)
    _context(ctx, out, family, pe)
    out["attn_logit_softcapping"] = ctx.opt_float(("attn_logit_softcapping",))
    out["final_logit_softcapping"] = ctx.opt_float(("final_logit_softcapping",))
    out["query_pre_attn_scalar"] = ctx.opt_float(("query_pre_attn_scalar",))
    _params(ctx, out, family, vision, cfg)
    out["warnings"], out["notes"] = warnings, notes
    return out


def _tied(ctx: Ctx, family: str) -> bool:
    for key in ("tie_word_embeddings", "weight_tying", "tie_embeddings"):
        v = ctx.opt_bool(key)
        if v is not None:
            return v
    t = TRAITS.get(family)
    if t is None or t.tie_default is None:
        ctx.warnings.append("tie_word_embeddings absent: assumed untied (separate LM head)")
        return False
    return bool(t.tie_default)


def _kv_heads(ctx: Ctx, family: str, H: int) -> int:
    cfg = ctx.cfg
    if family == "falcon":
        if ctx.flag("new_decoder_architecture", False):
            return ctx.opt_int(("num_kv_heads",)) or H
        return 1 if ctx.flag("multi_query", True) else H
    if family == "olmo" and ctx.flag("multi_query_attention", False):
        return 1
    kv = ctx.opt_int(KV_KEYS)
    if kv is None:
        if family == "unknown":
            ctx.warnings.append("num_key_value_heads absent: assumed equal to the attention heads (MHA)")
        return H
    return kv


def _mla(ctx: Ctx) -> dict[str, int | None]:
    q_lora = ctx.opt_int(("q_lora_rank",))
    return {
        "kv_lora_rank": ctx.req_int(("kv_lora_rank",)), "q_lora_rank": q_lora,
        "qk_rope_head_dim": ctx.req_int(("qk_rope_head_dim",)),
        "qk_nope_head_dim": ctx.req_int(("qk_nope_head_dim",)), "v_head_dim": ctx.req_int(("v_head_dim",)),
    }


def _intermediate(ctx: Ctx, family: str, d: int) -> int:
    cfg = ctx.cfg
    if family == "olmo" and not ctx.has("intermediate_size") and (ctx.has("mlp_hidden_size") or ctx.has("mlp_ratio")):
        # original OLMo (hf_olmo): fused MLP width, halved by SwiGLU
        width = ctx.opt_int(("mlp_hidden_size",)) or ctx.req_int(("mlp_ratio",)) * d
        return width // 2 if str(cfg.get("activation_type", "swiglu")) == "swiglu" else width
    i = ctx.opt_int(I_KEYS)
    if i is not None:
        return i
    if family in ("gpt2", "gptj", "bloom", "falcon", "gpt_neox"):
        ctx.notes.append(f"intermediate size absent: 4 x hidden = {4 * d} is the {family} default")
        return 4 * d
    ctx.warnings.append(f"intermediate_size absent: assumed 4 x hidden = {4 * d}")
    return 4 * d


def _position_encoding(ctx: Ctx, family: str) -> str:
    cfg = ctx.cfg
    if family == "gpt2":
        return "absolute"
    if family == "bloom" or (family in ("falcon", "olmo", "unknown") and ctx.flag("alibi", False)):
        return "alibi"
    if family == "olmo" and ctx.opt_bool("rope") is False:
        ctx.warnings.append("OLMo config with rope=false and alibi=false: treated as absolute positions")
        return "absolute"
    if family != "unknown":
        return "rope"
    if any(ctx.has(k) for k in ROPE_HINTS):
        return "rope"
    if ctx.has("n_positions"):
        ctx.warnings.append("position_encoding guessed 'absolute' from n_positions (no RoPE keys)")
        return "absolute"
    ctx.warnings.append("position_encoding guessed 'rope': config names no positional scheme")
    return "rope"


def _rope_fields(ctx: Ctx, out: dict, family: str, pe: str, types: list[str] | None,
                 d_head: int, mla: dict | None) -> None:
    L = out["n_layers"]
    if pe != "rope":
        out.update(rotary_dim=None, rope_theta=None, layer_rope_theta=[None] * L, rope_scaling=None)
        return
    t = TRAITS.get(family, Traits(True))
    info = parse_rope(
        ctx,
        theta_keys=("rotary_emb_base", "rope_theta") if family == "gpt_neox" else ("rope_theta",),
        local_theta_key="rope_local_base_freq" if family == "gemma3" else None,
        partial_keys=("rotary_pct", "partial_rotary_factor") if family == "gpt_neox" else ("partial_rotary_factor",),
    )
    theta = dict(info.theta)
    if theta.get(FULL) is None:
        if t.default_theta is not None and family != "unknown":
            theta[FULL] = t.default_theta
            kind = "" if t.theta_fixed else " (used when the key is absent)"
            ctx.notes.append(f"rope_theta={t.default_theta:g}: {t.theta_source}{kind}")
        else:
            ctx.warnings.append("rope_theta absent: unknown, not assumed (no family default)")
    if types and SLIDING in types and theta.get(SLIDING) is None:
        theta[SLIDING] = theta.get(FULL)
    out["rope_theta"] = theta.get(FULL)
    out["layer_rope_theta"] = [theta.get(lt, theta.get(FULL)) for lt in types] if types else [theta.get(FULL)] * L
    # rotary dimension
    if mla:
        rotary = mla["qk_rope_head_dim"]
    elif family in ("gptj", "unknown") and ctx.has("rotary_dim"):
        rotary = ctx.req_int(("rotary_dim",))
    elif family == "gptj":
        rotary = d_head
        ctx.notes.append("rotary_dim absent: GPT-J rotates the full head (GPTJConfig rotary_dim=None)")
    else:
        pf = info.partial_rotary_factor
        if pf is None and t.default_partial is not None:
            pf = t.default_partial
            ctx.notes.append(f"partial rotary factor absent: {pf} is the {family} config-class default")
        if pf is not None and not 0 < pf <= 1:
            raise ConfigError("partial rotary factor must be in (0, 1]", field=info.partial_key or "partial_rotary_factor",
                              value=pf)
        if pf is None and family == "unknown":
            ctx.warnings.append("rotary_dim assumed = head dim (no partial_rotary_factor or rotary_dim in config)")
        rotary = int(d_head * (1.0 if pf is None else pf))
    out["rotary_dim"] = rotary
    sc = info.scaling.get(FULL)
    if sc is not None and "original_max_position_embeddings" not in sc and ctx.has("original_max_position_embeddings"):
        sc = {**sc, "original_max_position_embeddings": ctx.req_int(("original_max_position_embeddings",))}
        ctx.notes.append("rope scaling's original_max_position_embeddings read from the top-level key")
    out["rope_scaling"] = sc


def _context(ctx: Ctx, out: dict, family: str, pe: str) -> None:
    key, mp = ctx.first(CTX_KEYS)
    mp = None if key is None else as_int(mp, field=key)
    if mp is None and family == "falcon":
        mp = 2048
        ctx.notes.append("max_position_embeddings absent: 2048 is the FalconConfig default")
    if mp is None and family == "gpt2":
        mp = 1024
        ctx.notes.append("n_positions absent: 1024 is the GPT2Config default")
    sc = out.get("rope_scaling")
    t_train = mp
    if sc is not None and sc.get("original_max_position_embeddings"):
        t_train = int(sc["original_max_position_embeddings"])
    elif sc is not None and sc.get("type") == "dynamic":
        pass  # dynamic NTK scaling only acts beyond max_position_embeddings, the trained context
    elif sc is not None and sc.get("factor") and mp is not None:
        t_train = int(round(mp / sc["factor"]))
        ctx.warnings.append(
            f"T_train={t_train} guessed as max_position_embeddings / rope scaling factor ({mp}/{sc['factor']:g}): "
            "the config does not give the pre-scaling context")
    elif sc is not None:
        ctx.warnings.append(f"T_train={mp} taken from max_position_embeddings although rope scaling "
                            f"({sc.get('type')}) is set without original_max_position_embeddings or factor")
    if t_train is None and family == "bloom":
        t_train = 2048
        ctx.warnings.append("T_train=2048 assumed: BLOOM configs give no context length; 2048 is the BLOOM "
                            "pretraining sequence length (BLOOM paper)")
    elif t_train is None:
        ctx.warnings.append("T_train unknown: the config gives no context length")
    out["T_train"], out["context_length"] = t_train, mp


def _moe_counts(ctx: Ctx) -> tuple[int, int, int | None]:
    key, n = ctx.first(("n_routed_experts", "num_local_experts", "num_experts"))
    n = 0 if key is None else as_int(n, field=key, minimum=0)
    k = ctx.opt_int(("num_experts_per_tok", "moe_topk", "top_k"))
    return n, (k or 0), ctx.opt_int(("moe_intermediate_size",))


def _params(ctx: Ctx, out: dict, family: str, vision: dict | None, raw: dict) -> None:
    cfg = ctx.cfg
    d, L, V = out["d_model"], out["n_layers"], out["vocab_size"]
    v_embed = ctx.opt_int(("embedding_size",)) if family == "olmo" else None
    x = Dims(d=d, L=L, H=out["n_heads"], KV=out["n_kv_heads"], dh=out["d_head"], V=V,
             I=out["intermediate_size"], V_embed=v_embed or V, tied=out["tie_word_embeddings"],
             n_positions=(out["context_length"] or 0) if out["position_encoding"] == "absolute" else 0)
    n_exp, top_k, moe_i = _moe_counts(ctx)
    out["is_moe"] = n_exp > 0
    active = None
    if out["mla"] is not None:
        moe = MoE(n_routed=n_exp, n_shared=ctx.int_or("n_shared_experts", 0, minimum=0), top_k=top_k,
                  moe_i=moe_i or 0, first_dense=ctx.int_or("first_k_dense_replace", 0, minimum=0),
                  freq=ctx.int_or("moe_layer_freq", 1), gate_bias=cfg.get("topk_method") == "noaux_tc")
        total, active = mla_moe_params(out["mla"], moe, x)
        if not n_exp:
            active = None
    else:
        t = TRAITS.get(family) or _guess_traits(ctx)
        npl = None
        if family == "falcon":
            npl = 2 if ctx.flag("new_decoder_architecture", False) or not ctx.flag("parallel_attn", True) else 1
        extra = 2 * d if family == "bloom" else 0  # word_embeddings_layernorm
        biases = tuple(ctx.flag(b, t.bias_default) if isinstance(b, str) else b
                       for b in (t.qkv_bias, t.o_bias, t.mlp_bias))
        total, emb = dense_params(t, x, biases, norms_per_layer=npl, extra=extra)
        if n_exp:
            e_i = moe_i or x.I
            per_expert = (3 if t.gated_mlp else 2) * d * e_i
            dense_mlp = (3 if t.gated_mlp else 2) * d * x.I
            total += L * (n_exp * per_expert + d * n_exp - dense_mlp)
            active = total - L * (n_exp - top_k) * per_expert - emb
            ctx.warnings.append("MoE parameters estimated for a generic top-k expert layout (unknown family)")
    if vision is not None:
        if family == "gemma3":
            vc = Ctx(vision)
            vis = {k: vc.int_or(k, dflt) for k, dflt in (("hidden_size", 1152), ("num_hidden_layers", 27),
                   ("intermediate_size", 4304), ("patch_size", 14), ("image_size", 896), ("num_channels", 3))}
            total += vit_params(vis) + vis["hidden_size"] * (d + 1)
            ctx.notes.append("n_params_M includes the SigLIP vision tower and projector (vision_config)")
        else:
            ctx.warnings.append("vision_config present: vision tower not counted in n_params_M")
    out["n_params_M"] = total / 1e6
    out["n_params_active_M"] = None if active is None else active / 1e6


def _guess_traits(ctx: Ctx) -> Traits:
    act = str(ctx.cfg.get("hidden_act", ctx.cfg.get("activation_function", "")))
    gated = act in ("silu", "swiglu", "swish", "gelu_pytorch_tanh", "geglu")
    bias = ctx.opt_bool("attention_bias")
    ctx.warnings.append(f"n_params_M: {'gated' if gated else 'plain'} MLP guessed from activation {act!r}")
    if bias is None:
        ctx.warnings.append("n_params_M: attention biases unknown, assumed none")
    return Traits(gated, bool(bias), bool(bias), ctx.flag("mlp_bias", False))


def _mamba(ctx: Ctx, out: dict, d: int, L: int, V: int, tied: bool) -> dict:
    cfg = ctx.cfg
    tsr = cfg.get("time_step_rank", "auto")
    if tsr == "auto":
        tsr = math.ceil(d / 16)
        ctx.notes.append(f"time_step_rank='auto' is ceil(hidden/16) = {tsr} (MambaConfig)")
    tsr = as_int(tsr, field="time_step_rank")
    x = Dims(d=d, L=L, H=0, KV=0, dh=0, V=V, I=0, V_embed=V, tied=tied)
    inner = ctx.opt_int(("intermediate_size",)) or ctx.int_or("expand", 2) * d
    n_params = mamba_params(x, state=ctx.int_or("state_size", 16), inner=inner,
                            conv_kernel=ctx.int_or("conv_kernel", 4), bias=ctx.flag("use_bias", False),
                            conv_bias=ctx.flag("use_conv_bias", True), time_step_rank=tsr)
    key, mp = ctx.first(CTX_KEYS)
    out.update(
        position_encoding="none", n_heads=0, n_kv_heads=0, d_head=0, rotary_dim=None, rope_theta=None,
        layer_rope_theta=[None] * L, sliding_window=None, layer_window=[None] * L, layer_types=None,
        rope_scaling=None, T_train=None if key is None else as_int(mp, field=key),
        context_length=None if key is None else as_int(mp, field=key), is_moe=False,
        intermediate_size=inner,
        attn_logit_softcapping=None, final_logit_softcapping=None, query_pre_attn_scalar=None, mla=None,
        alibi=False, multi_query=False, n_params_M=n_params / 1e6,
        n_params_active_M=None,
    )
    ctx.notes.append("Mamba has no attention: no heads, no positional encoding, no attention-decay prediction")
    out["warnings"], out["notes"] = ctx.warnings, ctx.notes
    return out
