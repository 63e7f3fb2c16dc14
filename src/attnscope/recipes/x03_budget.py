"""X-3: what model can this budget train (Chinchilla-optimal), and does it fit in memory?

Published logic error fixed: the reference recipe compared the 16·N bytes of
training state with the memory of ONE GPU even when ``n_gpus > 1``. With
sharded data parallelism (ZeRO-3 / FSDP) the state is split over all n GPUs,
so the check is against their TOTAL memory. A given model (optional) is also
checked: the budget share of its Chinchilla run and its memory.
"""
from __future__ import annotations

import math
from typing import Any

from attnscope.errors import ConfigError
from attnscope.memory import GIB
from attnscope.recipes import _cost as c
from attnscope.recipes.base import Param, Recipe, RecipeResult, model_name, step
from attnscope.theory.constants import CHINCHILLA_TOKENS_PER_PARAM


def _tier(n: float) -> str:
    """Capability tier by size (heuristic after Wei et al. 2022, as in TAF §17.60)."""
    for lim, label in ((1e11, "≥100B"), (1e10, "10B–100B"), (1e9, "1B–10B"), (1e8, "100M–1B")):
        if n >= lim:
            return label
    return "<100M"


def _run(arch: Any, p: dict[str, Any], prices: Any) -> RecipeResult:
    gpu = prices.gpu(p["gpu"])
    if gpu.usd_per_hour is None or gpu.usd_per_hour == 0:
        raise ConfigError("this GPU has no rental price in the table", field="gpu", value=gpu.name)
    n, k = p["n_gpus"], float(CHINCHILLA_TOKENS_PER_PARAM)
    steps = []
    gpu_hours = p["budget_usd"] / gpu.usd_per_hour
    wall = gpu_hours / n
    steps.append(step("GPU-hours affordable", "budget / $/h", {"budget_usd": p["budget_usd"],
                      "usd_per_hour": gpu.usd_per_hour, "price_date": gpu.date}, gpu_hours,
                      f"{wall / 24:.1f} days wall-clock on {n} GPUs"))
    C = c.effective_flops_per_s(gpu, p["mfu"], 1) * gpu_hours * 3600.0
    steps.append(step("training compute", "peak·MFU·GPU-hours·3600", {"peak_TFLOPs": gpu.tflops_bf16,
                      "mfu": p["mfu"]}, C))
    N = math.sqrt(C / (6.0 * k))
    D = k * N
    steps.append(step("Chinchilla-optimal size", "N = √(C / (6·20)), D = 20·N", {"C": C}, N,
                      f"D = {D:.3g} tokens; tier {_tier(N)}"))
    usable = (gpu.memory_gb - p["reserve_gib"]) * GIB
    if usable <= 0:
        raise ConfigError("GPU memory must exceed the reserve", field="reserve_gib", value=p["reserve_gib"])
    need = c.TRAIN_BYTES_PER_PARAM * N
    total = n * usable
    fits = need <= total
    steps.append(step("training state vs TOTAL memory", "16·N ≤ n_gpus·(memory − reserve)",
                      {"state_GiB": need / GIB, "n_gpus": n, "usable_per_gpu_GiB": usable / GIB,
                       "total_GiB": total / GIB}, fits,
                      "sharded (ZeRO-3/FSDP); activations come on top and are reduced by checkpointing"))
    n_min = c.ceil_div(need, usable)
    steps.append(step("GPUs needed for the state", "ceil(16·N / usable)", {"state_GiB": need / GIB}, n_min))
    warnings: list[str] = []
    if arch is not None:
        Nm = float(arch.n_params_M) * 1e6
        Cm = c.training_flops(float(arch.n_params_active_M or arch.n_params_M) * 1e6, k * Nm)
        share = Cm / C
        steps.append(step(f"{model_name(arch)}: Chinchilla run vs budget", "6·N·20N / budget compute",
                          {"N": Nm, "C_model": Cm}, share, "fraction of the budget it needs"))
        steps.append(step(f"{model_name(arch)}: training state fits?", "16·N ≤ total usable",
                          {"state_GiB": c.TRAIN_BYTES_PER_PARAM * Nm / GIB}, c.TRAIN_BYTES_PER_PARAM * Nm <= total))
    params = {**p, "price_table": prices.path, "price_table_date": prices.date}
    if fits:
        verdict = "GO"
        reason = (f"${p['budget_usd']:,.0f} trains a {N:.3g}-param model on {D:.3g} tokens in "
                  f"{wall / 24:.1f} days on {n}× {gpu.name}; its 16·N = {need / GIB:.0f} GiB state fits in "
                  f"{total / GIB:.0f} GiB total")
        mit = None
    else:
        verdict = "MEMORY-LIMITED"
        reason = (f"the {N:.3g}-param optimum needs {need / GIB:.0f} GiB of training state; {n}× {gpu.name} "
                  f"give {total / GIB:.0f} GiB")
        mit = (f"use n_gpus ≥ {n_min} (same budget, same compute, {wall * n / n_min / 24:.1f} days), "
               f"or train a smaller model on more tokens")
    return RecipeResult(recipe="X-3", title=RECIPE.title, model=model_name(arch), verdict=verdict, value=N,
                        value_name="n_params_optimal", reason=reason, mitigation=mit, params=params,
                        steps=steps, warnings=warnings)


RECIPE = Recipe(
    id="X-3", title="Budget → trainable model", needs_model=False, uses_prices=True, run_fn=_run,
    question="Given a budget, what model can I train compute-optimally, and does it fit?",
    fixes="memory is checked against the TOTAL memory of all n GPUs (the published recipe used one GPU's)",
    example="attnscope recipe X-3 -p budget_usd=20000 -p gpu=H100-SXM -p n_gpus=8",
    params={
        "budget_usd": Param(float, 5000.0, "training budget in USD", 0, True),
        "gpu": Param(str, "H100-SXM", "GPU row of the price table"),
        "n_gpus": Param(int, 1, "GPUs trained on together", 1),
        "mfu": Param(float, 0.45, "model FLOPs utilisation (0-1]", 0, True, 1),
        "reserve_gib": Param(float, 1.0, "per-GPU memory kept for CUDA context/fragmentation, GiB", 0),
    },
)
