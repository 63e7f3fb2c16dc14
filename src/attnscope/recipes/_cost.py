"""Cost formulas shared by the cost recipes X-1, X-3 and X-5 (one implementation each).

Units: FLOPs, seconds, bytes, USD. Throughput is the standard roofline for
autoregressive decoding: each step reads the weights once plus every sequence's
KV cache, and does ``2·N_active`` FLOPs per generated token; the step time is the
larger of the memory time and the compute time.
"""
from __future__ import annotations

import math
from typing import Any

from attnscope.theory.constants import CHINCHILLA_TOKENS_PER_PARAM

#: Adam mixed-precision training state per parameter: bf16 weights (2) + bf16
#: grads (2) + fp32 master weights, first and second moments (12) — ZeRO paper
#: (Rajbhandari et al. 2020, §3.1: "16Ψ bytes"). Activations come on top.
TRAIN_BYTES_PER_PARAM = 16.0


def training_flops(n_params: float, tokens: float) -> float:
    """C = 6·N·D (Kaplan et al. 2020), FLOPs."""
    return 6.0 * n_params * tokens


def chinchilla_tokens(n_params: float) -> float:
    """D = 20·N, the compute-optimal token count (constant CHINCHILLA_TOKENS_PER_PARAM)."""
    return float(CHINCHILLA_TOKENS_PER_PARAM) * n_params


def effective_flops_per_s(gpu: Any, mfu: float, n_gpus: int) -> float:
    """peak · MFU · n_gpus, FLOP/s."""
    return float(gpu.tflops_bf16) * 1e12 * mfu * n_gpus


def decode_step_seconds(*, weights_bytes: float, kv_bytes_per_seq: float, batch: int,
                        n_active_params: float, gpu: Any, n_gpus: int, mfu: float) -> dict[str, float]:
    """Roofline time of one decode step of ``batch`` sequences on ``n_gpus`` (ideal scaling).

    memory time = (weights + batch·KV) / (n·bandwidth);
    compute time = batch · 2·N_active / (n·peak·MFU).
    """
    t_mem = (weights_bytes + batch * kv_bytes_per_seq) / (n_gpus * float(gpu.bandwidth_gbs) * 1e9)
    t_cmp = batch * 2.0 * n_active_params / effective_flops_per_s(gpu, mfu, n_gpus)
    t = max(t_mem, t_cmp)
    return {"t_memory_s": t_mem, "t_compute_s": t_cmp, "t_step_s": t,
            "tokens_per_s": batch / t, "bound": "memory" if t_mem >= t_cmp else "compute"}


def usd_per_mtok(usd_per_hour: float, tokens_per_s: float) -> float:
    """Rental cost of one million tokens at full utilisation."""
    return usd_per_hour / (tokens_per_s * 3600.0 / 1e6)


def ceil_div(a: float, b: float) -> int:
    return max(1, math.ceil(a / b - 1e-12))
