"""``attnscope measure`` (attention decay from weights) and ``attnscope schema`` (record JSON Schema).

torch and transformers are imported inside the command, never at import time.
"""
from __future__ import annotations

import math
import sys
from typing import Any, Optional

import typer

from attnscope.cli import app

_EXAMPLES = """
Examples:

  attnscope measure tiny-main                                   # bundled model, all defaults
  attnscope measure tiny-main --corpus random --per-head --out results.jsonl
  attnscope measure tiny-main --random-init --out results.jsonl  # the falsifier: same shape, fresh weights
  attnscope measure ./my-model --T 2048 --prompts 50 --dtype bfloat16 --device cuda --out results.jsonl
  attnscope measure tiny-main --protocol taf-e4 --distances 10,20,30,50,100,200   # the published protocol
"""


def _fmt(v: Optional[float], digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if v == 0:
        return f"{0.0:.{digits}f}"  # never "-0.000"
    return f"{v:.{digits}f}" if abs(v) >= 10 ** -digits else f"{v:.2e}"


def _ci(v, lo, hi, digits: int = 3) -> str:
    return f"{_fmt(v, digits)} [{_fmt(lo, digits)}, {_fmt(hi, digits)}]"


def render_summary(rec, console) -> None:
    """Summary table(s) of a MeasurementRecord on ``console`` (stdout)."""
    from rich.table import Table

    m = rec.measurement
    t = Table(title=f"{rec.model_id}: attention decay ({m.protocol}, {m.corpus}, T={m.T_eval}, "
                    f"{m.n_prompts_per_distance} prompts, {m.precision}{', random init' if m.random_init else ''})",
              title_justify="left", show_header=True)
    t.add_column("quantity")
    t.add_column("value (95% CI)")
    rows = [
        ("gamma (OLS log-log, d >= %d)" % (m.fit.d_min if m.fit else 0), _ci(m.gamma, m.gamma_ci95_lo, m.gamma_ci95_hi)),
        ("gamma_uniform (null, same grid and queries)", _fmt(m.null.gamma_uniform) if m.null else "—"),
        ("excess = gamma - gamma_uniform", _ci(m.null.excess, m.null.excess_ci95_lo, m.null.excess_ci95_hi)
         if m.null else "—"),
        ("verdict", m.null.verdict if m.null else "—"),
        ("R2 power / delta R2 (power - exp)", f"{_fmt(m.fit.R2)} / {_fmt(m.fit.delta_R2_power_minus_exp)}"
         if m.fit else "—"),
    ]
    if m.mle is not None:
        rows += [(f"gamma MLE (per head, d in [{m.mle.d_min}, {m.mle.d_max}])",
                  _ci(m.mle.gamma, m.mle.gamma_ci95_lo, m.mle.gamma_ci95_hi)),
                 ("log-lik ratio power - geometric (nats/row)",
                  _ci(m.mle.loglik_ratio_power_minus_geom, m.mle.loglik_ratio_ci95_lo, m.mle.loglik_ratio_ci95_hi, 4))]
    rows += [("sink mass (position 0)", _ci(m.sink_mass, m.sink_mass_ci95_lo, m.sink_mass_ci95_hi)),
             (f"gamma_pade(theta, T={rec.predictions.T_used})", _fmt(rec.predictions.gamma_pade)),
             ("decision", rec.decision or "—")]
    for r in rows:
        t.add_row(*r)
    console.print(t)
    if m.curve is not None:
        c = Table(title="A(d)", title_justify="left")
        for col in ("d", "A", "95% CI"):
            c.add_column(col)
        for d, a, lo, hi in zip(m.curve.distances, m.curve.A, m.curve.A_ci95_lo, m.curve.A_ci95_hi):
            c.add_row(str(d), f"{a:.4g}", f"[{lo:.4g}, {hi:.4g}]" if lo is not None and hi is not None else "—")
        console.print(c)
    if m.per_layer:
        lt = Table(title="per layer", title_justify="left")
        for col in ("layer", "gamma (95% CI)", "excess", "sink mass", "entropy (nats)"):
            lt.add_column(col)
        for u in m.per_layer:
            lt.add_row(str(u.layer), _ci(u.gamma, u.gamma_ci95_lo, u.gamma_ci95_hi), _fmt(u.excess),
                       _fmt(u.sink_mass), _fmt(u.entropy_nats))
        console.print(lt)


def _progress_bar():
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    from attnscope.cli._common import stderr_console

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("forwards"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=stderr_console(), transient=False)


@app.command("measure", epilog=_EXAMPLES)
def measure_cmd(
    model: str = typer.Argument(..., help="Bundled model (tiny-main), local folder with weights, or hub id."),
    corpus: str = typer.Option("text", "--corpus", help="text (held-out stdlib prose, or --text-file) | random"),
    protocol: str = typer.Option("rows", "--protocol", help="rows (one forward per prompt) | taf-e4 (published)"),
    T: Optional[int] = typer.Option(None, "--T", "-T", help="Prompt length, tokens (default: min(2048, model context))"),
    distances: Optional[str] = typer.Option(
        None, "--distances", help="Comma-separated distances (default: 10,20,30,50,100,200,500,1000,2000 "
                                  "up to T-1-queries, with a warning when some are dropped)"),
    prompts: int = typer.Option(6, "--prompts", help="Prompts per seed (bootstrap clusters)"),
    seeds: str = typer.Option("42,123,7", "--seeds", help="Comma-separated seeds; each draws its own prompts"),
    dtype: str = typer.Option("float32", "--dtype", help="float32 | bfloat16 | float16"),
    load_in_4bit: bool = typer.Option(False, "--load-in-4bit", help="4-bit weights (needs the quant extra and CUDA)"),
    revision: Optional[str] = typer.Option(None, "--revision", help="Hub revision / checkpoint"),
    per_head: bool = typer.Option(False, "--per-head", help="Also report gamma per (layer, head)"),
    random_init: bool = typer.Option(False, "--random-init", help="Same architecture, fresh weights (falsifier)"),
    text_file: Optional[str] = typer.Option(None, "--text-file", help="Your own text corpus (UTF-8)"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps"),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Run the model repo's own code"),
    d_min: int = typer.Option(30, "--d-min", help="Smallest distance in the fits, tokens"),
    queries: int = typer.Option(32, "--queries", help="Query rows per prompt (rows protocol)"),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap replicates over prompts"),
    boot_seed: int = typer.Option(0, "--boot-seed", help="Seed of the bootstrap"),
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Append the record to this JSONL file (resumes)"),
    json_out: bool = typer.Option(False, "--json", help="Print the record as JSON to stdout instead of tables"),
    threads: Optional[int] = typer.Option(
        None, "--threads", help="CPU threads for torch (default: torch's); 1 is often fastest for tiny models "
                                "on a busy machine (results do not depend on it)"),
    device_map: Optional[str] = typer.Option(None, "--device-map", help="'auto': shard across GPUs (accelerate)"),
) -> None:
    """Measure attention decay A(d) ∝ d^-γ from the weights, with CIs and the uniform-attention null."""
    from attnscope.cli._common import parse_int_list, print_json, stderr_console, stdout_console
    from attnscope.measure.run import measure_outcome

    err = stderr_console()
    if threads is not None:
        from attnscope.errors import ProtocolError

        if threads < 1:
            raise ProtocolError("must be >= 1", field="threads", value=threads)
        import torch

        torch.set_num_threads(threads)
    bar = _progress_bar()
    task = None

    def progress(done: int, total: int, desc: str) -> None:
        nonlocal task
        if task is None:
            task = bar.add_task("measuring", total=total)
        bar.update(task, completed=done, description=desc)

    with bar:
        outcome = measure_outcome(
            model, corpus=corpus, protocol=protocol, T=T,
            distances=parse_int_list(distances, field="distances") if distances is not None else None,
            prompts=prompts, seeds=parse_int_list(seeds, field="seeds"), dtype=dtype, device=device,
            per_head=per_head, random_init=random_init, text_file=text_file, revision=revision,
            load_in_4bit=load_in_4bit, trust_remote_code=trust_remote_code, d_min=d_min, queries=queries,
            n_boot=n_boot, boot_seed=boot_seed, device_map=device_map, out=out, progress=progress)
    rec = outcome.record
    if outcome.skipped:
        err.print(f"already measured: {out} holds this run (key {rec.key[:12]}…); nothing appended", markup=False)
    for w in rec.warnings:
        err.print(f"warning: {w}", markup=False)
    if json_out:
        print_json(rec)
    else:
        render_summary(rec, stdout_console())
    if out is not None and not outcome.skipped:
        err.print(f"appended 1 record to {out} (wall {rec.provenance.wall_s:.1f} s)", markup=False)


@app.command("schema")
def schema_cmd(
    kind: Optional[str] = typer.Argument(None, help="Record kind (e.g. measurement); default: every kind"),
) -> None:
    """Print the JSON Schema of the records (one object keyed by record kind)."""
    from attnscope.cli._common import print_json
    from attnscope.errors import RecordError
    from attnscope.records import json_schema

    schemas: dict[str, Any] = json_schema()
    if kind is None:
        print_json(schemas)
        return
    if kind not in schemas:
        raise RecordError(f"unknown record kind; choose one of {', '.join(schemas)}", field="kind", value=kind)
    print_json(schemas[kind])
    sys.stdout.flush()
