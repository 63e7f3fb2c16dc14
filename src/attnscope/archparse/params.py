"""Parameter counts estimated from the config alone (embeddings included).

Dense decoder: token embedding (+ learned positions) + per layer (attention, MLP,
norms) + final norm + LM head unless tied. MoE (DeepSeek): total counts every
expert; *active* counts what one token uses in matmuls: all non-expert weights,
the shared experts and ``num_experts_per_tok`` routed experts, including the LM
head but excluding the input-embedding table (a lookup), the convention behind
DeepSeek's published "activated parameters".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attnscope.archparse.families import Traits


@dataclass(frozen=True)
class Dims:
    d: int
    L: int
    H: int
    KV: int
    dh: int
    V: int
    I: int
    V_embed: int  # rows of the embedding matrix (can be padded above vocab_size)
    tied: bool
    n_positions: int = 0  # learned absolute position rows (GPT-2 family)


@dataclass(frozen=True)
class MoE:
    """Validated MoE layout (DeepSeek key names)."""

    n_routed: int
    n_shared: int
    top_k: int
    moe_i: int
    first_dense: int
    freq: int
    gate_bias: bool  # e_score_correction_bias (DeepSeek-V3 ``noaux_tc`` routing)


def dense_params(t: Traits, x: Dims, biases: tuple[bool, bool, bool], *, norms_per_layer: int | None = None,
                 extra: int = 0) -> tuple[int, int]:
    """(total, embedding_table) parameter counts of a dense decoder.

    ``biases`` = (qkv, output projection, MLP), resolved from the config by the caller.
    """
    d, L, H, KV, dh = x.d, x.L, x.H, x.KV, x.dh
    qkv_b, o_b, mlp_b = biases
    attn = d * H * dh + 2 * d * KV * dh + H * dh * d
    attn += (H + 2 * KV) * dh * qkv_b + d * o_b
    if t.qk_norm == "head":
        attn += 2 * dh
    elif t.qk_norm == "full":
        attn += (H + KV) * dh
    mlp = (3 if t.gated_mlp else 2) * d * x.I + mlp_b * ((2 if t.gated_mlp else 1) * x.I + d)
    npl = t.norms_per_layer if norms_per_layer is None else norms_per_layer
    norms = npl * t.norm_params * d
    emb = x.V_embed * d
    head = 0 if x.tied else x.V * d + (x.V if t.lm_head_bias else 0)
    total = emb + x.n_positions * d + L * (attn + mlp + norms) + t.norm_params * d + head + extra
    return total, emb


def mla_moe_params(mla: dict[str, Any], moe: MoE, x: Dims) -> tuple[int, int]:
    """(total, active) parameters of a DeepSeek-V2/V3 model (MLA attention + MoE MLP).

    The multi-token-prediction module of V3 (``num_nextn_predict_layers``) is not
    counted: it is not part of the main model's forward pass.
    """
    d, L, H = x.d, x.L, x.H
    q_lora = mla["q_lora_rank"]
    kv_lora = mla["kv_lora_rank"]
    nope, rope, vh = mla["qk_nope_head_dim"], mla["qk_rope_head_dim"], mla["v_head_dim"]
    qk = nope + rope
    if q_lora:
        q = d * q_lora + q_lora + q_lora * H * qk
    else:
        q = d * H * qk
    attn = q + d * (kv_lora + rope) + kv_lora + kv_lora * H * (nope + vh) + H * vh * d
    norms = 2 * d
    n_routed, n_shared, top_k = moe.n_routed, moe.n_shared, moe.top_k
    first_dense, freq = moe.first_dense, moe.freq
    expert = 3 * d * moe.moe_i
    gate = d * n_routed + (n_routed if moe.gate_bias else 0)
    total = active = 0
    for i in range(L):
        is_moe = n_routed > 0 and i >= first_dense and i % freq == 0
        if is_moe:
            mlp_total = (n_routed + n_shared) * expert + gate
            mlp_active = (top_k + n_shared) * expert + gate
        else:
            mlp_total = mlp_active = 3 * d * x.I
        total += attn + norms + mlp_total
        active += attn + norms + mlp_active
    emb = x.V * d
    head = 0 if x.tied else x.V * d
    total += emb + head + d
    active += head + d + (x.V * d if x.tied else 0)
    return total, active


def mamba_params(x: Dims, *, state: int, inner: int, conv_kernel: int, bias: bool, conv_bias: bool,
                 time_step_rank: int) -> int:
    """Parameters of a Mamba (v1) model (validated sizes from its config)."""
    d, L, n, e, k = x.d, x.L, state, inner, conv_kernel
    layer = (
        d * 2 * e + (2 * e if bias else 0)          # in_proj
        + e * k + (e if conv_bias else 0)           # depthwise conv1d
        + e * (time_step_rank + 2 * n)              # x_proj
        + time_step_rank * e + e                    # dt_proj (with bias)
        + e * n + e                                 # A_log, D
        + e * d + (d if bias else 0)                # out_proj
        + d                                         # RMSNorm
    )
    head = 0 if x.tied else x.V * d
    return x.V_embed * d + L * layer + d + head


def vit_params(vc: dict[str, Any]) -> int:
    """Parameters of a SigLIP-style ViT tower from a ``vision_config`` dict."""
    d = int(vc.get("hidden_size", 1152))
    L = int(vc.get("num_hidden_layers", 27))
    inter = int(vc.get("intermediate_size", 4304))
    p = int(vc.get("patch_size", 14))
    img = int(vc.get("image_size", 896))
    c = int(vc.get("num_channels", 3))
    layer = 4 * d * d + 4 * d + 2 * d * inter + inter + d + 2 * 2 * d
    return L * layer + c * p * p * d + d + (img // p) ** 2 * d + 2 * d
