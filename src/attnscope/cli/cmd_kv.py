"""``attnscope kv-eval`` (KV-cache policies vs budget) and ``attnscope extend-eval`` (RoPE scaling).

torch and transformers are imported inside the commands, never at import time.
"""
from __future__ import annotations

from typing import Optional

import typer

from attnscope.cli import app

_KV_EXAMPLES = """
Examples:

  attnscope kv-eval tiny-main --budgets 16,32,64,128 --out kv.json
  attnscope kv-eval tiny-main --policies sink_window,gamma_window,random --budgets 32,64 --fractions 0.8,0.9 --lags 64,192
  attnscope kv-eval ./my-model --T 1024 --budgets 64,128,256,512 --gamma-record measured.jsonl --out kv.json
"""

_EXT_EXAMPLES = """
Examples:

  attnscope extend-eval tiny-main --factors 2,4 --out ext.json
  attnscope extend-eval tiny-main --factors 2 --methods none,ntk,yarn --prompts 4
"""


def _floats(text: str, *, field: str) -> list[float]:
    from attnscope.cli._common import parse_float_list

    return parse_float_list(text, field=field)


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _write(result, out: Optional[str]) -> None:
    import json

    from attnscope.cli._common import print_json, to_jsonable
    from attnscope.io import atomic_write_text

    if out is None:
        print_json(result)
    else:
        atomic_write_text(out, json.dumps(to_jsonable(result), indent=2, allow_nan=False) + "\n")


@app.command("kv-eval", epilog=_KV_EXAMPLES)
def kv_eval_cmd(
    model: str = typer.Argument(..., help="Bundled model, folder, or hub id with weights"),
    policies: str = typer.Option("sink_window,gamma_window,soft_decay,random", "--policies",
                                 help="Comma-separated: full, sink_window, gamma_window, soft_decay, random"),
    budgets: str = typer.Option(..., "--budgets", help="Budgets (keys a decoded token attends to), e.g. 16,32,64"),
    fractions: str = typer.Option("0.5,0.8,0.9,0.95", "--fractions", help="gamma_window attention-mass fractions f"),
    T: Optional[int] = typer.Option(None, "--T", "-T", help="Window length, tokens [default: training context]"),
    prompts: int = typer.Option(16, "--prompts", help="Prompts per task (bootstrap clusters)"),
    seed: int = typer.Option(0, "--seed", help="Seed of the prompts, random spans, random eviction, bootstrap"),
    n_sink: int = typer.Option(4, "--n-sink", help="Sink tokens kept by every policy"),
    f: float = typer.Option(0.9, "--f", help="Fraction for the predicted D_f and the measured knee"),
    copy_span: int = typer.Option(16, "--copy-span", help="Random-token span length of the copy task"),
    lags: Optional[str] = typer.Option(None, "--lags", help="Copy lags, tokens [default: T/4, 3T/4]"),
    gamma_record: Optional[str] = typer.Option(None, "--gamma-record",
                                               help="MeasurementRecord JSONL with per-layer gamma [default: gamma_pade]"),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap replicates over prompts"),
    device: str = typer.Option("cpu", "--device", help="cpu | cuda | mps | auto"),
    dtype: str = typer.Option("float32", "--dtype", help="float32 | bfloat16 | float16"),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Write the result JSON here (else stdout)"),
) -> None:
    """Perplexity and copy retrieval vs KV budget for each policy; measured knee vs predicted D_f."""
    from attnscope.cli._common import parse_int_list, stderr_console
    from attnscope.errors import ProtocolError
    from attnscope.kv.evaluate import kv_eval

    bud = parse_int_list(budgets, field="budgets")
    lag_list = parse_int_list(lags, field="lags") if lags is not None else None
    if prompts < 2:
        raise ProtocolError("at least 2 prompts are needed for a bootstrap over prompts", field="prompts", value=prompts)
    if lag_list is None:
        from attnscope.arch import load_arch

        spec = load_arch(model)
        TT = T if T is not None else spec.T_train
        if TT is None:
            raise ProtocolError("the config has no training context; pass --T", field="T", value=None)
        lag_list = sorted({max(copy_span, TT // 4), min(3 * TT // 4, TT - copy_span - 1)})
    res = kv_eval(model, policies=_names(policies), budgets=bud, fractions=_floats(fractions, field="fractions"),
                  T=T, prompts=prompts, seed=seed, n_sink=n_sink, f=f, copy_span=copy_span, lags=lag_list,
                  gamma_record=gamma_record, n_boot=n_boot, device=device, dtype=dtype)
    if lags is None:
        res = res.model_copy(update={"warnings": res.warnings + [f"lags not given: used {lag_list}"]})
    _write(res, out)
    err = stderr_console()
    for k in res.knees:
        err.print(f"knee {k.policy} {k.task}{'' if k.lag is None else f'@lag={k.lag}'}: measured "
                  f"{k.measured_budget} [{k.measured_ci95_lo}, {k.measured_ci95_hi}] vs predicted "
                  f"{k.predicted_budget:g}")
    for w in res.warnings:
        err.print(f"warning: {w}")


@app.command("extend-eval", epilog=_EXT_EXAMPLES)
def extend_eval_cmd(
    model: str = typer.Argument(..., help="Bundled model, folder, or hub id with weights (unscaled RoPE)"),
    factors: str = typer.Option(..., "--factors", help="Extension factors > 1, e.g. 2,4 (L = factor x T_train)"),
    methods: str = typer.Option("none,linear,ntk,ntk_aware,dynamic,yarn", "--methods",
                                help="Comma-separated: none, linear, ntk, ntk_aware, dynamic, yarn"),
    prompts: int = typer.Option(8, "--prompts", help="Prompts per task (bootstrap clusters)"),
    seed: int = typer.Option(0, "--seed", help="Seed of prompts, spans and bootstrap"),
    copy_span: int = typer.Option(16, "--copy-span", help="Random-token span length of the copy task"),
    lag_fractions: str = typer.Option("0.25,0.75", "--lag-fractions", help="Copy lags as fractions of L"),
    alpha_grid: str = typer.Option("0.25,0.5,2,4", "--alpha-grid", help="Multipliers of alpha_opt for the NTK sweep"),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap replicates over prompts"),
    device: str = typer.Option("cpu", "--device", help="cpu | cuda | mps | auto"),
    dtype: str = typer.Option("float32", "--dtype", help="float32 | bfloat16 | float16"),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Write the result JSON here (else stdout)"),
) -> None:
    """Zero-shot context extension (linear, NTK with the theory's alpha, dynamic NTK, YaRN) at 1x and factor x T."""
    from attnscope.cli._common import stderr_console
    from attnscope.errors import ProtocolError
    from attnscope.kv.extend import check_factor, check_method, extend_eval

    fac = [check_factor(x) for x in _floats(factors, field="factors")]
    meth = [check_method(m) for m in _names(methods)]
    if prompts < 2:
        raise ProtocolError("at least 2 prompts are needed for a bootstrap over prompts", field="prompts", value=prompts)
    res = extend_eval(model, factors=fac, methods=meth, prompts=prompts, seed=seed, copy_span=copy_span,
                      lag_fractions=_floats(lag_fractions, field="lag_fractions"),
                      alpha_grid=_floats(alpha_grid, field="alpha_grid"), n_boot=n_boot, device=device, dtype=dtype)
    _write(res, out)
    err = stderr_console()
    for v in res.pareto:
        err.print(f"L={v.L}: alpha_opt={v.alpha_opt:g} {'on' if v.on_front else 'NOT on'} the Pareto front"
                  + (f" (dominated by {', '.join(v.dominated_by)})" if v.dominated_by else ""))
    for w in res.warnings:
        err.print(f"warning: {w}")
