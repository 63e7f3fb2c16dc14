"""X-1: train (and self-host) a model of this size, or pay an API? Payback horizon is a parameter.

Published logic error fixed: the reference recipe answered "custom" only when one
month of volume covered the whole training cost (``monthly ≥ break-even``), i.e.
a hidden one-month payback horizon. Here the horizon is ``payback_months``. The
self-hosting price also accounts for how many GPUs the weights need.
"""
from __future__ import annotations

from typing import Any

from attnscope.memory import GIB, estimate_memory
from attnscope.recipes import _cost as c
from attnscope.recipes.base import Param, Recipe, RecipeResult, model_name, step


def _run(arch: Any, p: dict[str, Any], prices: Any) -> RecipeResult:
    gpu, api = prices.gpu(p["gpu"]), prices.api(p["api"])
    warnings: list[str] = []
    if gpu.usd_per_hour is None:
        from attnscope.errors import ConfigError

        raise ConfigError("this GPU has no rental price in the table", field="gpu", value=gpu.name)
    N = float(arch.n_params_M) * 1e6
    N_act = float(arch.n_params_active_M or arch.n_params_M) * 1e6
    steps = []
    if p["train_tokens"] is None:
        D = c.chinchilla_tokens(N)
        steps.append(step("training tokens (Chinchilla)", "D = 20·N", {"N": N}, D))
    else:
        D = float(p["train_tokens"])
        steps.append(step("training tokens (given)", "D = train_tokens", {"train_tokens": D}, D))
    C = c.training_flops(N_act, D)
    steps.append(step("training compute", "C = 6·N_active·D", {"N_active": N_act, "D": D}, C))
    rate = c.effective_flops_per_s(gpu, p["mfu"], p["n_gpus"])
    hours = C / rate / 3600.0
    train_usd = hours * p["n_gpus"] * gpu.usd_per_hour
    steps.append(step("training cost", "C / (peak·MFU·n_gpus) / 3600 · n_gpus · $/h",
                      {"peak_TFLOPs": gpu.tflops_bf16, "mfu": p["mfu"], "n_gpus": p["n_gpus"],
                       "usd_per_hour": gpu.usd_per_hour, "hours": hours, "price_date": gpu.date}, train_usd))
    est = estimate_memory(arch, context=1, batch=1, dtype=p["dtype"])
    usable = (gpu.memory_gb - 1.0) * GIB
    n_serve = c.ceil_div(est.weights_bytes, usable)
    dec = c.decode_step_seconds(weights_bytes=est.weights_bytes, kv_bytes_per_seq=0.0, batch=p["batch"],
                                n_active_params=N_act, gpu=gpu, n_gpus=n_serve, mfu=p["mfu"])
    self_mtok = c.usd_per_mtok(n_serve * gpu.usd_per_hour, dec["tokens_per_s"])
    steps.append(step("self-hosted $/Mtok", "n·$/h / (tokens/s·3600/1e6), tokens/s = roofline decode",
                      {"weights_GiB": est.weights_bytes / GIB, "n_gpus_to_serve": n_serve, "batch": p["batch"],
                       "tokens_per_s": dec["tokens_per_s"], "bound": dec["bound"]}, self_mtok,
                      "full utilisation; KV-cache reads ignored (short contexts)"))
    api_mtok = (1 - p["output_fraction"]) * api.usd_per_mtok_input + p["output_fraction"] * api.usd_per_mtok_output
    steps.append(step(f"{api.name} blended $/Mtok", "(1−o)·input + o·output",
                      {"input": api.usd_per_mtok_input, "output": api.usd_per_mtok_output,
                       "o": p["output_fraction"], "price_date": api.date}, api_mtok))
    saving = api_mtok - self_mtok
    steps.append(step("saving per Mtok", "api − self", {"api": api_mtok, "self": self_mtok}, saving))
    always_on = n_serve * gpu.usd_per_hour * 730.0
    steps.append(step("always-on serving cost per month", "n·$/h·730", {"n": n_serve}, always_on,
                      "what a dedicated, never-idle deployment costs regardless of volume"))
    params = {**p, "price_table": prices.path, "price_table_date": prices.date}
    if saving <= 0:
        return RecipeResult(recipe="X-1", title=RECIPE.title, model=model_name(arch), verdict="API",
                            value=None, value_name="payback_months", params=params, steps=steps,
                            reason=f"self-hosting (${self_mtok:.2f}/Mtok) is not cheaper than {api.name} "
                                   f"(${api_mtok:.2f}/Mtok): training never pays back",
                            mitigation=f"use {api.name}", warnings=warnings)
    be = train_usd / saving
    months = be / p["monthly_mtok"]
    steps.append(step("break-even volume", "training$ / saving", {"training_usd": train_usd}, be, "Mtok"))
    steps.append(step("payback time", "break-even / monthly volume", {"monthly_mtok": p["monthly_mtok"]}, months,
                      "months"))
    ok = months <= p["payback_months"]
    steps.append(step("within payback horizon?", "payback_months_needed ≤ payback_months",
                      {"needed": months, "horizon": p["payback_months"]}, ok))
    return RecipeResult(
        recipe="X-1", title=RECIPE.title, model=model_name(arch), verdict="TRAIN" if ok else "API",
        value=months, value_name="payback_months", params=params, steps=steps, warnings=warnings,
        reason=(f"training costs ${train_usd:,.0f}; at {p['monthly_mtok']:g} Mtok/month it pays back in "
                f"{months:.1f} months ({'within' if ok else 'beyond'} the {p['payback_months']:g}-month horizon)"),
        mitigation=(f"train on {p['n_gpus']}× {gpu.name}, serve on {n_serve}× {gpu.name}" if ok
                    else f"use {api.name}, or revisit at ≥ {be / p['payback_months']:.0f} Mtok/month"),
    )


RECIPE = Recipe(
    id="X-1", title="Train and self-host vs API", needs_model=True, uses_prices=True, run_fn=_run,
    question="Should I train a model of this size and serve it myself, or pay an API?",
    fixes="payback horizon is a parameter (the published recipe hid a 1-month horizon); "
          "serving counts the GPUs the weights need",
    example="attnscope recipe X-1 llama-3-8b -p api=gpt-4o -p monthly_mtok=500 -p payback_months=12",
    params={
        "api": Param(str, "gpt-4o", "API row of the price table"),
        "monthly_mtok": Param(float, 10.0, "your volume, million tokens per month", 0, True),
        "payback_months": Param(float, 12.0, "payback horizon in months", 0, True),
        "output_fraction": Param(float, 0.5, "share of tokens that are API output (priced higher)", 0, False, 1),
        "gpu": Param(str, "H100-SXM", "GPU row of the price table"),
        "n_gpus": Param(int, 8, "GPUs for training", 1),
        "mfu": Param(float, 0.45, "model FLOPs utilisation (0-1]", 0, True, 1),
        "train_tokens": Param(float, None, "training tokens (default: Chinchilla 20·N)", 0, True),
        "batch": Param(int, 1, "concurrent sequences when self-hosting", 1),
        "dtype": Param(str, "bf16", "serving weight dtype: bf16, fp16, int8, nf4"),
    },
)
