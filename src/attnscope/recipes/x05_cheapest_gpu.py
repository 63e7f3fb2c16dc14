"""X-5: the cheapest GPU (and how many) to serve a daily token volume at a given context.

Published logic errors fixed: the reference recipe kept any GPU whose memory
held weights + KV and ranked them by $/Mtok, without checking that the GPU
delivers the daily volume (it printed "supports 0.3× your daily target" next to
a YES), and it ignored the batch in the decode throughput. Here each GPU type
is sized as replicas of k cards (k = cards holding weights + batch·KV +
activations; replicas = enough to meet the throughput target), is eligible
only if ``n = k·replicas ≤ max_gpus``, and the ranking is by USD per day.
"""
from __future__ import annotations

from typing import Any

from attnscope.errors import ConfigError
from attnscope.memory import GIB, estimate_memory
from attnscope.recipes import _cost as c
from attnscope.recipes.base import Param, Recipe, RecipeResult, model_name, step


def _context(arch: Any, p: dict[str, Any]) -> tuple[int, str]:
    if p["context"] is not None:
        return int(p["context"]), "--context"
    if getattr(arch, "T_train", None):
        return int(arch.T_train), "T_train"
    raise ConfigError("the model's training context is unknown: pass a context", field="context", value=None)


def _run(arch: Any, p: dict[str, Any], prices: Any) -> RecipeResult:
    L, L_src = _context(arch, p)
    est = estimate_memory(arch, context=L, batch=p["batch"], dtype=p["dtype"])
    N_act = float(arch.n_params_active_M or arch.n_params_M) * 1e6
    need_tps = p["tokens_per_day"] / 86400.0 * p["peak_factor"]
    steps = [
        step("memory to serve", "weights + batch·KV(context) + activations",
             {"weights_GiB": est.weights_bytes / GIB, "kv_GiB": est.kv_bytes / GIB,
              "activations_GiB": est.activation_bytes / GIB, "context": L, "context_source": L_src,
              "batch": p["batch"], "dtype": p["dtype"]}, est.total_gib),
        step("required throughput", "tokens_per_day / 86400 · peak_factor",
             {"tokens_per_day": p["tokens_per_day"], "peak_factor": p["peak_factor"]}, need_tps, "tokens/s"),
    ]
    rows, rejected = [], []
    for g in prices.gpus:
        if g.usd_per_hour is None:
            rejected.append({"gpu": g.name, "why": "no rental price"})
            continue
        usable = (g.memory_gb - p["reserve_gib"]) * GIB
        if usable <= 0:
            rejected.append({"gpu": g.name, "why": "memory below the reserve"})
            continue
        k = c.ceil_div(est.total_bytes, usable)  # GPUs per replica: holds weights + batch·KV + activations
        grp = c.decode_step_seconds(weights_bytes=est.weights_bytes, kv_bytes_per_seq=est.kv_per_sequence_bytes,
                                    batch=p["batch"], n_active_params=N_act, gpu=g, n_gpus=k, mfu=p["mfu"])
        replicas = c.ceil_div(need_tps, grp["tokens_per_s"])
        n = k * replicas
        row = {"gpu": g.name, "n_capacity": k, "replicas": replicas, "n_gpus": n,
               "tokens_per_s_per_replica": grp["tokens_per_s"], "bound": grp["bound"],
               "usd_per_day": n * g.usd_per_hour * 24.0,
               "usd_per_mtok": n * g.usd_per_hour * 24.0 / (p["tokens_per_day"] / 1e6), "price_date": g.date}
        if n > p["max_gpus"]:
            why = "capacity" if k > p["max_gpus"] else "throughput"
            rejected.append({**row, "why": f"needs {n} > max_gpus={p['max_gpus']} ({why})"})
        else:
            rows.append(row)
    rows.sort(key=lambda r: (r["usd_per_day"], r["gpu"]))
    steps.append(step("per-GPU sizing", "k = ceil(memory/usable); replicas = ceil(required tokens/s ÷ replica tokens/s); "
                      "n = k·replicas",
                      {"max_gpus": p["max_gpus"], "mfu": p["mfu"], "reserve_gib": p["reserve_gib"]},
                      {"eligible": rows, "rejected": rejected},
                      "replica tokens/s = batch / max((weights + batch·KV)/(k·bandwidth), "
                      "batch·2·N_active/(k·peak·MFU)) (ideal tensor-parallel scaling)"))
    params = {**p, "context": L, "price_table": prices.path, "price_table_date": prices.date}
    if not rows:
        cap_ok = [r for r in rejected if "n_capacity" in r and r["n_capacity"] <= p["max_gpus"]]
        why = ("capacity suffices on " + ", ".join(r["gpu"] for r in cap_ok) +
               " but none reaches the throughput target") if cap_ok else "no GPU type holds the model"
        return RecipeResult(recipe="X-5", title=RECIPE.title, model=model_name(arch), verdict="NO", value=None,
                            value_name="usd_per_day", params=params, steps=steps, warnings=est.warnings,
                            reason=f"no GPU type serves {p['tokens_per_day']:.3g} tokens/day within "
                                   f"{p['max_gpus']} cards: {why}",
                            mitigation="raise max_gpus, raise the batch (more concurrent sequences), or quantise")
    best = rows[0]
    return RecipeResult(
        recipe="X-5", title=RECIPE.title, model=model_name(arch), verdict="YES", value=best["usd_per_day"],
        value_name="usd_per_day", params=params, steps=steps, warnings=est.warnings,
        reason=(f"{best['n_gpus']}× {best['gpu']} at ${best['usd_per_day']:,.2f}/day "
                f"(${best['usd_per_mtok']:.3f}/Mtok) meets {need_tps:,.0f} tokens/s and holds "
                f"{est.total_gib:.1f} GiB"),
        mitigation=None,
    )


RECIPE = Recipe(
    id="X-5", title="Cheapest GPU to serve a daily volume", needs_model=True, uses_prices=True, run_fn=_run,
    question="Which GPU, and how many, serve my daily token volume most cheaply?",
    fixes="checks the throughput target as well as capacity; decode throughput uses the batch and KV reads",
    example="attnscope recipe X-5 qwen2.5-7b -p tokens_per_day=5e8 -p batch=16 --context 8192",
    params={
        "tokens_per_day": Param(float, 1e7, "generated tokens per day", 0, True),
        "context": Param(int, None, "tokens per sequence (default: the model's T_train)", 1),
        "batch": Param(int, 1, "concurrent sequences per replica (decode batch)", 1),
        "dtype": Param(str, "bf16", "weight dtype: bf16, fp16, int8, nf4"),
        "peak_factor": Param(float, 1.0, "peak / average load (1 = flat traffic)", 1),
        "max_gpus": Param(int, 8, "largest deployment considered (one node)", 1),
        "mfu": Param(float, 0.45, "compute utilisation for the compute-bound limit", 0, True, 1),
        "reserve_gib": Param(float, 1.0, "per-GPU memory kept for CUDA context/fragmentation, GiB", 0),
    },
)

