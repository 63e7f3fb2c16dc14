"""Config-only commands: ``card``, ``compare``, ``recipe``, ``fit``.

They never import torch or transformers (checked by tests): everything here
runs from config.json and the dated price table in about a second. Heavy-ish
imports (rich, pydantic models) happen inside the command functions.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import typer

from attnscope.cli import app

_MODEL = typer.Argument(..., help="Preset name, HF id, local folder, config.json path or bundled model.")
_CONTEXT = typer.Option(None, "--context", "-L", help="Context in tokens to predict at (default: the model's T_train).")
_JSON = typer.Option(False, "--json", help="Print one JSON object to stdout instead of tables.")
_PRICES = typer.Option(None, "--prices", help="A price-table JSON replacing the shipped, dated one.")
_PARAM = typer.Option(None, "--param", "-p", help="Recipe option KEY=VALUE (repeatable); see `attnscope recipe --list`.")


# ----------------------------------------------------------------------------- rendering
def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
            return f"{v:.4g}"
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.1f}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items() if not isinstance(x, (list, dict)))
    if isinstance(v, list):
        return f"[{len(v)} items]" if v and isinstance(v[0], dict) else ", ".join(_fmt(x) for x in v)
    return str(v)


def _table(console: Any, title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table on a terminal; tab-separated plain text when piped."""
    from attnscope.cli._common import print_table

    print_table(title, columns, rows, fmt=_fmt, console=console)


def _warn(warnings: list[str]) -> None:
    from attnscope.cli._common import stderr_console

    err = stderr_console()
    for w in dict.fromkeys(warnings):
        err.print(f"warning: {w}", markup=False)


def _parse_params(items: Optional[list[str]]) -> dict[str, str]:
    from attnscope.errors import ConfigError

    out: dict[str, str] = {}
    for it in items or []:
        key, sep, val = it.partition("=")
        if not sep or not key.strip():
            raise ConfigError("expected KEY=VALUE", field="param", value=it)
        out[key.strip()] = val.strip()
    return out


# ----------------------------------------------------------------------------- card
@app.command("card")
def card_cmd(model: str = _MODEL, context: Optional[int] = _CONTEXT, json_out: bool = _JSON) -> None:
    """The TAF card of a model, from its config alone (no weights, no torch).

    Predicts per layer type: γ_Padé, regime, d_horizon, exact KV window D_f(0.9),
    thermodynamics, imprint γ_random and K; summarises recipes X-2, X-19, X-21, X-22, X-23.

    Examples:
      attnscope card pythia-70m
      attnscope card ./my-model/config.json --context 32768 --json
    """
    from attnscope.card import card
    from attnscope.cli._common import print_json, stdout_console

    c = card(model, context=context)
    if json_out:
        print_json(c)
        return
    con = stdout_console()
    a, p = c.arch, c.predictions
    _table(con, f"{c.model} — architecture", ["field", "value"], [
        ["family / position", f"{a['family']} / {a['position_encoding']}"],
        ["layers × heads (kv)", f"{a['n_layers']} × {a['n_heads']} ({a['n_kv_heads']})"],
        ["d_model / d_head / rotary_dim", f"{a['d_model']} / {a['d_head']} / {_fmt(a['rotary_dim'])}"],
        ["rope_theta", a["rope_theta"]], ["rope_scaling", a["rope_scaling"]],
        ["T_train / context_length", f"{_fmt(a['T_train'])} / {_fmt(a['context_length'])}"],
        ["params (M)", a["n_params_M"]]])
    rows = [[k, p.get(k), p["null_reasons"].get(k, "")] for k in
            ("gamma_pade", "regime", "d_horizon", "D_f_90", "ntk_alpha", "gamma_random_pred", "K")]
    rows += [[f"thermo.{k}", (p["thermo"] or {}).get(k), p["null_reasons"].get("thermo", "")]
             for k in ("Z", "U", "S", "F", "C_V")]
    rows += [["T_used", p["T_used"], p["T_source"]], ["θ used", p["theta_used"], p["theta_source"]]]
    _table(con, f"predictions ({p['primary_layer_type']} layers)", ["quantity", "value", "note"], rows)
    _table(con, "per layer type", ["type", "layers", "θ", "window", "T_used", "γ_Padé", "regime", "D_f_90"],
           [[g["layer_type"], g["n_layers"], g["theta"], g["window"], g["T_used"], g["gamma_pade"], g["regime"],
             g["D_f_90"]] for g in p["per_layer_type"]])
    _table(con, "recipes", ["recipe", "title", "verdict", "reason"],
           [[k, r["title"], r["verdict"], r["reason"]] for k, r in c.recipes.items()])
    _table(con, "empirical constants used", ["name", "value", "n", "status"],
           [[k["name"], k["value"], k["n"], k["status"]] for k in p["constants"]])
    _warn(c.warnings)


# ----------------------------------------------------------------------------- compare
@app.command("compare")
def compare_cmd(models: list[str] = typer.Argument(..., help="Two or more model sources."),
                recipe: Optional[str] = typer.Option(None, "--recipe", "-r", help="Run this recipe (X-N) on each."),
                context: Optional[int] = _CONTEXT, param: Optional[list[str]] = _PARAM,
                prices: Optional[str] = _PRICES, json_out: bool = _JSON) -> None:
    """Compare models side by side: their card predictions, or one recipe's verdicts.

    Examples:
      attnscope compare pythia-70m pythia-160m
      attnscope compare llama-3-8b qwen2.5-7b --recipe X-2 --context 32768
    """
    from attnscope.arch import load_arch
    from attnscope.card import card
    from attnscope.cli._common import print_json, stdout_console
    from attnscope.errors import ConfigError

    if len(models) < 2:
        raise ConfigError("give at least two models", field="models", value=models)
    archs = [load_arch(m) for m in models]
    con = stdout_console()
    if recipe is None:
        if param or prices:
            raise ConfigError("--param and --prices need --recipe", field="param" if param else "prices",
                              value=param or prices)
        cards = [card(a, context=context) for a in archs]
        keys = ("gamma_pade", "regime", "d_horizon", "D_f_90", "ntk_alpha", "gamma_random_pred", "K", "T_used")
        if json_out:
            print_json({"models": [c.model for c in cards], "context": context,
                        "rows": {k: [c.predictions.get(k) for c in cards] for k in keys},
                        "recipes": {rid: [c.recipes[rid] for c in cards] for rid in cards[0].recipes}})
            return
        rows = [[k] + [c.predictions.get(k) for c in cards] for k in keys]
        rows += [[rid] + [c.recipes[rid]["verdict"] for c in cards] for rid in cards[0].recipes]
        _table(con, "compare", ["quantity"] + [c.model for c in cards], rows)
        return
    results = [_run_recipe(recipe, a, context, param, prices) for a in archs]
    if json_out:
        print_json({"recipe": results[0].recipe, "models": [r.model for r in results], "results": results})
        return
    _table(con, f"{results[0].recipe} — {results[0].title}", ["model", "verdict", results[0].value_name, "reason"],
           [[r.model, r.verdict, r.value, r.reason] for r in results])
    _warn([f"{r.model}: {w}" for r in results for w in r.warnings])


# ----------------------------------------------------------------------------- recipe
def _run_recipe(rid: str, arch: Any, context: Optional[int], param: Optional[list[str]], prices: Optional[str]):
    from attnscope.errors import ConfigError
    from attnscope.recipes import get_recipe
    from attnscope.recipes.prices import load_prices

    r = get_recipe(rid)
    opts = _parse_params(param)
    if context is not None:
        if "context" not in r.params:
            raise ConfigError(f"recipe {r.id} takes no context", field="context", value=context)
        if context <= 0:
            from attnscope.errors import DomainError

            raise DomainError("must be a positive integer (tokens)", field="context", value=context)
        opts["context"] = context
    table = load_prices(prices) if r.uses_prices else None
    if prices is not None and not r.uses_prices:
        raise ConfigError(f"recipe {r.id} uses no price table", field="prices", value=prices)
    return r(arch, prices=table, **opts)


@app.command("recipe")
def recipe_cmd(recipe: Optional[str] = typer.Argument(None, help="Recipe id, e.g. X-2."),
               model: Optional[str] = typer.Argument(None, help="Model source (X-3 needs none)."),
               context: Optional[int] = _CONTEXT, param: Optional[list[str]] = _PARAM,
               prices: Optional[str] = _PRICES, list_: bool = typer.Option(False, "--list", help="List recipes."),
               json_out: bool = _JSON) -> None:
    """Run one recipe with its full audit trail (every step: formula, inputs, value).

    Examples:
      attnscope recipe --list
      attnscope recipe X-2 llama-3-8b --context 32768
      attnscope recipe X-19 pythia-160m -p gamma=0.748 --context 2000
      attnscope recipe X-1 llama-3-8b -p monthly_mtok=500 -p payback_months=6
      attnscope recipe X-3 -p budget_usd=20000 -p n_gpus=8
      attnscope recipe X-5 qwen2.5-7b -p tokens_per_day=5e8 -p batch=16 --prices my_prices.json
    """
    from attnscope.cli._common import print_json, stdout_console
    from attnscope.errors import ConfigError
    from attnscope.recipes import RECIPES, get_recipe

    con = stdout_console()
    if list_ or recipe is None:
        rows = [[r.id, r.title, r.question, ", ".join(r.params), r.example] for r in RECIPES.values()]
        if json_out:
            print_json([{"id": r.id, "title": r.title, "question": r.question, "fixes": r.fixes,
                         "params": {k: {"type": p.type.__name__, "default": p.default, "help": p.help}
                                    for k, p in r.params.items()}} for r in RECIPES.values()])
        else:
            _table(con, "recipes", ["id", "title", "question", "options (-p KEY=VALUE)", "example"], rows)
        return
    r = get_recipe(recipe)
    arch = None
    if model is not None:
        from attnscope.arch import load_arch

        arch = load_arch(model)
    elif r.needs_model:
        raise ConfigError(f"recipe {r.id} needs a MODEL argument", field="model", value=None)
    res = _run_recipe(r.id, arch, context, param, prices)
    if json_out:
        print_json(res)
        return
    _table(con, f"{res.recipe} — {res.title}: {res.model or ''}", ["", ""], [
        ["verdict", res.verdict], [res.value_name, res.value], ["reason", res.reason],
        ["mitigation", res.mitigation]])
    _table(con, "audit trail", ["#", "step", "formula", "inputs", "value", "note"],
           [[i + 1, s.name, s.formula, s.inputs, s.value, s.note] for i, s in enumerate(res.steps)])
    for s in res.steps:  # list-valued results (e.g. X-5's per-GPU sizing) get their own table
        for key, rows in (s.value.items() if isinstance(s.value, dict) else ()):
            if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
                cols = list(dict.fromkeys(k for r in rows for k in r))
                _table(con, f"{s.name}: {key}", cols, [[r.get(c) for c in cols] for r in rows])
    _table(con, "options", ["option", "value"], [[k, v] for k, v in res.params.items()])
    if res.constants:
        _table(con, "empirical constants", ["name", "value", "n", "status"],
               [[k["name"], k["value"], k["n"], k["status"]] for k in res.constants])
    _warn(res.warnings)


# ----------------------------------------------------------------------------- fit
def _beyond_context(arch: Any, L: int) -> list[str]:
    cl = getattr(arch, "context_length", None)
    return [f"context {L} exceeds the model's maximum supported context ({cl})"] if cl and L > cl else []


@app.command("fit")
def fit_cmd(model: str = _MODEL, context: Optional[int] = _CONTEXT,
            batch: int = typer.Option(1, "--batch", "-b", help="Concurrent sequences."),
            dtype: str = typer.Option("bf16", "--dtype", help="Weight dtype: bf16, fp16, int8, nf4 (or fp32)."),
            reserve_gib: float = typer.Option(1.0, "--reserve-gib", help="Per-GPU memory kept for CUDA context."),
            prices: Optional[str] = _PRICES, json_out: bool = _JSON) -> None:
    """Will it fit? Weights + KV cache (GQA, MLA, sliding windows) + activations, per GPU of the price table.

    Examples:
      attnscope fit llama-3-8b --context 8192 --batch 8 --dtype bf16
      attnscope fit qwen2.5-7b --context 32768 --dtype nf4 --json
    """
    from attnscope.arch import load_arch
    from attnscope.cli._common import print_json, stdout_console
    from attnscope.memory import GIB, check_dtype, check_positive_int, estimate_memory, fit_on_gpus
    from attnscope.recipes._layers import resolve_T
    from attnscope.recipes.prices import load_prices

    check_dtype(dtype)
    check_positive_int(batch, "batch")
    arch = load_arch(model)
    L, L_src = resolve_T(arch, context)
    if L is None:
        from attnscope.errors import ConfigError

        raise ConfigError("the model's T_train is unknown: pass --context", field="context", value=None)
    table = load_prices(prices)
    est = estimate_memory(arch, context=L, batch=batch, dtype=dtype)
    fits = fit_on_gpus(est, table.gpus, reserve_gib=reserve_gib)
    if json_out:
        print_json({"model": arch.name, "context": L, "context_source": L_src, "batch": batch, "dtype": dtype,
                    "GiB": {"weights": est.weights_bytes / GIB, "kv_cache": est.kv_bytes / GIB,
                            "activations": est.activation_bytes / GIB, "total": est.total_gib},
                    "kv_layers": est.kv_layers, "formulas": est.formulas, "reserve_gib": reserve_gib,
                    "gpus": fits, "price_table": table.path, "price_table_date": table.date,
                    "warnings": est.warnings + _beyond_context(arch, L)})
        return
    con = stdout_console()
    _table(con, f"{arch.name}: {dtype}, context {L} ({L_src}), batch {batch}", ["part", "GiB", "formula"], [
        ["weights", est.weights_bytes / GIB, est.formulas["weights"]],
        ["KV cache", est.kv_bytes / GIB, f"{est.formulas['kv_cache']}; per token = {est.formulas['values_per_token']}"],
        *[[f"  {k.layer_type} ×{k.n_layers}", batch * k.bytes / GIB, f"{k.cached_tokens} tokens × {k.values_per_token}"]
          for k in est.kv_layers],
        ["activations", est.activation_bytes / GIB, est.formulas["activations"]],
        ["total", est.total_gib, ""]])
    _table(con, f"GPUs (price table {table.date}; usable = memory − {reserve_gib:g} GiB)",
           ["gpu", "memory GiB", "fits on 1", "GPUs needed", "$/h total"],
           [[f.gpu, f.memory_gib, f.fits_one, f.n_gpus, f.usd_per_hour_total] for f in fits])
    _warn(est.warnings + _beyond_context(arch, L))
