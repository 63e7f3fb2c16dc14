"""Will it fit? Inference memory of a model from its config: weights + KV cache + activations.

All sizes are bytes in the code and GiB (2**30 bytes) in the reports, which is
what a device reports as its memory. The KV cache is computed per layer:

* standard attention caches K and V: ``2 · n_kv_heads · d_head`` values per token
  (grouped-query attention shrinks ``n_kv_heads``; multi-query has 1);
* MLA (DeepSeek-V2/V3) caches the compressed latent plus the decoupled rotary key:
  ``kv_lora_rank + qk_rope_head_dim`` values per token (the serving-engine layout
  of vLLM/SGLang; transformers' eager implementation caches the decompressed
  K and V instead, which a warning quantifies);
* a sliding-window layer caches at most ``window`` tokens;
* a model without attention (Mamba) has no KV cache (its recurrent state is
  a few MB and is not modelled: a warning says so).

No torch import: this runs from the config alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from attnscope.errors import ConfigError, DomainError

GIB = float(2**30)

#: bytes per weight for each supported storage dtype; nf4 = 4 bits + a blockwise
#: absmax (fp32 per 64 weights, double-quantised to 8 bits + fp32 per 256 blocks):
#: 4 + 8/64 + 32/(64·256) = 4.127 bits (QLoRA, Dettmers et al. 2023, §2).
WEIGHT_BYTES: dict[str, float] = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int8": 1.0, "nf4": (4 + 8 / 64 + 32 / (64 * 256)) / 8,
}
#: bytes per cached K/V value: weight-only quantisation (int8, nf4) keeps the
#: KV cache and activations in the 16-bit compute dtype.
COMPUTE_BYTES: dict[str, float] = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int8": 2.0, "nf4": 2.0}


def check_dtype(dtype: str) -> str:
    """Validate a weight dtype name; DomainError naming the choices otherwise."""
    if dtype not in WEIGHT_BYTES:
        raise DomainError(f"unknown dtype; choose one of {', '.join(WEIGHT_BYTES)}", field="dtype", value=dtype)
    return dtype


def check_positive_int(value: Any, field_name: str) -> int:
    """A strictly positive integer (DomainError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DomainError("must be a positive integer", field=field_name, value=value)
    return value


@dataclass(frozen=True)
class LayerKV:
    """KV-cache bytes of one group of identical layers, for ONE sequence."""

    layer_type: str
    n_layers: int
    cached_tokens: int
    values_per_token: int
    bytes: float


@dataclass(frozen=True)
class MemoryEstimate:
    """Inference memory of one model at (context, batch, dtype), in bytes."""

    model: str
    dtype: str
    context: int
    batch: int
    weights_bytes: float
    kv_bytes: float
    activation_bytes: float
    total_bytes: float
    kv_per_sequence_bytes: float
    kv_layers: list[LayerKV]
    formulas: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    @property
    def total_gib(self) -> float:
        return self.total_bytes / GIB


def _layer_types(arch: Any) -> list[str]:
    n = int(arch.n_layers)
    lt = getattr(arch, "layer_types", None)
    if lt and len(lt) == n:
        return [str(t) for t in lt]
    windows = getattr(arch, "layer_window", None) or [None] * n
    return ["sliding_attention" if w else "full_attention" for w in windows]


def kv_cache_layers(arch: Any, context: int, *, kv_bytes: float) -> tuple[list[LayerKV], list[str]]:
    """Per-layer-type KV bytes for ONE sequence of ``context`` tokens.

    Returns the groups and warnings. See the module docstring for the per-token sizes.
    """
    warnings: list[str] = []
    if int(getattr(arch, "n_heads", 1)) == 0 or getattr(arch, "family", "") == "mamba":
        warnings.append("no attention layers (state-space model): KV cache = 0; the recurrent "
                        "state (a few MB per sequence) is not modelled")
        return [], warnings
    n = int(arch.n_layers)
    windows = list(getattr(arch, "layer_window", None) or [None] * n)
    if len(windows) != n:
        raise ConfigError("layer_window must have one entry per layer", field="layer_window", value=len(windows))
    mla = getattr(arch, "mla", None)
    if mla:
        values = int(mla["kv_lora_rank"]) + int(mla["qk_rope_head_dim"])
        full = int(arch.n_heads) * (int(mla.get("qk_nope_head_dim") or 0) + int(mla["qk_rope_head_dim"])
                                    + int(mla.get("v_head_dim") or 0))
        warnings.append(f"MLA: KV counted as the cached latent ({values} values/token/layer, serving-engine "
                        f"layout); a cache of decompressed K and V (transformers' eager path) holds {full} "
                        f"values/token/layer, {full / values:.0f}x more")
    else:
        values = 2 * int(arch.n_kv_heads) * int(arch.d_head)
    groups: dict[tuple[str, int], int] = {}
    for t, w in zip(_layer_types(arch), windows):
        cached = min(context, int(w)) if w else context
        groups[(t, cached)] = groups.get((t, cached), 0) + 1
    out = [LayerKV(t, k, cached, values, float(k) * cached * values * kv_bytes)
           for (t, cached), k in groups.items()]
    return out, warnings


def estimate_memory(arch: Any, *, context: int, batch: int = 1, dtype: str = "bf16") -> MemoryEstimate:
    """Inference memory for serving ``batch`` sequences of ``context`` tokens.

    Parameters
    ----------
    arch : ArchSpec
        The parsed architecture (``attnscope.arch``).
    context : int
        Tokens per sequence (prompt + generated), > 0.
    batch : int
        Concurrent sequences, > 0.
    dtype : {"fp32", "bf16", "fp16", "int8", "nf4"}
        Weight storage dtype. int8/nf4 quantise the linear layers only: embeddings
        and the LM head stay 16-bit, as in bitsandbytes; KV and activations are 16-bit.

    Returns
    -------
    MemoryEstimate
        weights + KV (per layer type) + an activation estimate for one prefill of
        the whole batch without chunking:
        ``batch · context · (2·d_model + intermediate_size) · 2 bytes`` (the residual
        stream in and out of the largest block plus the MLP intermediate) + the
        fp32 logits of the last position ``batch · vocab · 4``.
    """
    check_positive_int(context, "context")
    check_positive_int(batch, "batch")
    check_dtype(dtype)
    warnings: list[str] = list(getattr(arch, "warnings", []) or [])
    wb, cb = WEIGHT_BYTES[dtype], COMPUTE_BYTES[dtype]
    n_params = float(arch.n_params_M) * 1e6
    d_model, vocab = int(arch.d_model), int(getattr(arch, "vocab_size", 0) or 0)
    n_embed = vocab * d_model * (1 if getattr(arch, "tie_word_embeddings", True) else 2)
    if dtype in ("int8", "nf4"):
        quantised = max(n_params - n_embed, 0.0)
        weights = quantised * wb + (n_params - quantised) * 2.0
        wformula = "(N − N_embed)·bytes(dtype) + N_embed·2"
    else:
        weights = n_params * wb
        wformula = "N·bytes(dtype)"
    layers, w2 = kv_cache_layers(arch, context, kv_bytes=cb)
    warnings += w2
    kv_seq = sum(g.bytes for g in layers)
    inter = getattr(arch, "intermediate_size", None)
    if not inter:
        inter = 4 * d_model
        warnings.append(f"intermediate_size unknown: activation estimate assumes 4·d_model = {inter}")
    act = batch * context * (2 * d_model + int(inter)) * 2.0 + batch * vocab * 4.0
    formulas = {
        "weights": wformula,
        "kv_cache": "batch · Σ_layers min(context, window_l) · values_per_token · bytes(kv)",
        "values_per_token": ("kv_lora_rank + qk_rope_head_dim (MLA latent)" if getattr(arch, "mla", None)
                             else "2 · n_kv_heads · d_head"),
        "activations": "batch·context·(2·d_model + intermediate_size)·2 + batch·vocab·4",
    }
    return MemoryEstimate(
        model=str(getattr(arch, "name", "")), dtype=dtype, context=context, batch=batch,
        weights_bytes=weights, kv_bytes=batch * kv_seq, activation_bytes=act,
        total_bytes=weights + batch * kv_seq + act, kv_per_sequence_bytes=kv_seq,
        kv_layers=layers, formulas=formulas, warnings=warnings,
    )


@dataclass(frozen=True)
class GPUFit:
    """Verdict for one GPU model: does it fit on one, and how many are needed."""

    gpu: str
    memory_gib: float
    usable_gib: float
    fits_one: bool
    n_gpus: int
    usd_per_hour_total: float | None


def fit_on_gpus(est: MemoryEstimate, gpus: list[Any], *, reserve_gib: float = 1.0) -> list[GPUFit]:
    """Compare an estimate with each GPU of a price table.

    ``usable = memory − reserve_gib`` (CUDA context and allocator fragmentation).
    ``n_gpus = ceil(total / usable)`` assumes the model shards evenly (tensor or
    pipeline parallel); it is a lower bound.
    """
    if reserve_gib < 0:
        raise DomainError("must be >= 0", field="reserve_gib", value=reserve_gib)
    out = []
    for g in gpus:
        usable = float(g.memory_gb) - reserve_gib
        if usable <= 0:
            raise DomainError("GPU memory must exceed the reserve", field="reserve_gib", value=reserve_gib)
        n = max(1, math.ceil(est.total_gib / usable))
        price = None if g.usd_per_hour is None else n * float(g.usd_per_hour)
        out.append(GPUFit(g.name, float(g.memory_gb), usable, est.total_gib <= usable, n, price))
    return out
