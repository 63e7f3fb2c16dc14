"""``attnscope panel``: measure a panel of models (resumable, local or Ray), its status and scorecard.

Examples::

    attnscope panel run examples/panel.toml                       # sequential, in this process
    attnscope panel run panel.toml --devices 0,1,2,3              # one process per GPU (CUDA_VISIBLE_DEVICES)
    attnscope panel run panel.toml --executor ray --address auto  # tasks on an existing Ray cluster
    attnscope panel run panel.toml --executor ray --retries 2     # a local Ray instance
    attnscope panel status panel.toml                             # done / failed (with reasons) / pending
    attnscope panel score panel.toml --protocol rows --json       # the reference-panel scorecard of the store
    attnscope panel export panel.toml --out panel.parquet         # flat table (parquet extra)

Job failures do not stop the run: they are recorded with their reason, retried,
and make ``panel run`` exit 1 at the end. A malformed panel file exits 2.
Heavy imports (torch, ray) happen inside the commands.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from attnscope.cli import app

panel_app = typer.Typer(help="Measure a panel of models: resumable jobs on a local or Ray executor.",
                        no_args_is_help=True)
app.add_typer(panel_app, name="panel")

_EXAMPLES = """
Examples:

  attnscope panel run examples/panel.toml                       # sequential, in this process
  attnscope panel run panel.toml --devices 0,1                  # one process per GPU
  attnscope panel run panel.toml --executor ray --address auto  # an existing Ray cluster
"""
_PANEL = typer.Argument(..., help="The panel file (panel.toml).")
_STORE = typer.Option(None, "--store", help="Result store folder (default: the file's store, relative to the file).")
_JSON = typer.Option(False, "--json", help="Print one JSON object to stdout instead of tables.")


def _f(v: Optional[float], nd: int = 3) -> str:
    return "—" if v is None else f"{v:.{nd}f}"


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from attnscope.cli._common import print_table

    print_table(title, columns, rows)


@panel_app.command("run", epilog=_EXAMPLES)
def run_cmd(
    panel: Path = _PANEL,
    executor: Optional[str] = typer.Option(None, "--executor", help="local | ray (default: the file's executor.kind, else local)"),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address, e.g. auto (default: the file's, else start a local instance)"),
    retries: Optional[int] = typer.Option(None, "--retries", help="Extra attempts per failed job (default: the file's retries)"),
    devices: Optional[str] = typer.Option(None, "--devices", help="Local: one process per device, e.g. 0,1"),
    num_cpus: Optional[int] = typer.Option(None, "--num-cpus", help="CPUs of a local Ray instance"),
    gpus_per_job: Optional[float] = typer.Option(None, "--gpus-per-job", help="Ray num_gpus per task"),
    store: Optional[Path] = _STORE,
    json_: bool = _JSON,
) -> None:
    """Measure every job of the panel that the store does not hold yet (re-run to resume)."""
    from attnscope.cli._common import print_json, stderr_console
    from attnscope.panel.jobs import expand_jobs
    from attnscope.panel.run import run_panel
    from attnscope.panel.spec import load_panel

    err = stderr_console()
    spec = load_panel(panel)
    n = len(expand_jobs(spec))
    count = {"i": 0}

    def on_event(kind: str, job, d: dict[str, Any]) -> None:
        if kind == "done":
            count["i"] += 1
            m = d["record"].measurement
            err.print(f"[{count['i']}] done    {job.title}: gamma {_f(m.gamma)} [{_f(m.gamma_ci95_lo)}, "
                      f"{_f(m.gamma_ci95_hi)}] ({_f(d.get('wall_s'), 1)} s)", markup=False)
        else:
            f = d["failure"]
            label = "retry" if kind == "retry" else "FAILED"
            err.print(f"[attempt {f.attempt}] {label:6s} {job.title}: {f.error_type}: {f.reason}", markup=False)

    dev_list = [x.strip() for x in devices.split(",") if x.strip()] if devices is not None else None
    err.print(f"panel {spec.name!r}: {n} jobs, store {spec.store_path if store is None else store}", markup=False)
    try:
        res = run_panel(spec, executor=executor, address=address, retries=retries, devices=dev_list, store=store,
                        num_cpus=num_cpus, gpus_per_job=gpus_per_job, on_event=on_event)
    except KeyboardInterrupt:  # typer turns it into exit 130 without a word: say what is kept
        err.print(f"interrupted: the {count['i']} job(s) finished in this run are in the store; re-run to resume "
                  "(finished jobs are skipped)", markup=False)
        raise
    for note in res.notes:
        err.print(f"note: {note}", markup=False)
    summary = {"panel": spec.name, "store": str(res.store), "executor": res.executor, "jobs": res.n_jobs,
               "already_done": res.already_done, "measured": len(res.measured), "failed": len(res.failed),
               "parquet": str(res.parquet) if res.parquet else None}
    if json_:
        print_json(summary)
    else:
        _table(f"panel {spec.name}", ["jobs", "already done", "measured now", "failed", "executor"],
               [[res.n_jobs, res.already_done, len(res.measured), len(res.failed), res.executor]])
    if res.failed:
        err.print(f"{len(res.failed)} job(s) failed after every attempt; `attnscope panel status {panel}` lists "
                  "the reasons; re-run to retry them", markup=False)
        raise typer.Exit(1)


@panel_app.command("status")
def status_cmd(panel: Path = _PANEL, store: Optional[Path] = _STORE, json_: bool = _JSON) -> None:
    """List done, failed (with reasons) and pending jobs; runs nothing."""
    from attnscope.cli._common import print_json, stderr_console
    from attnscope.panel.run import panel_status

    st = panel_status(panel, store=store)
    if json_:
        print_json({
            "store": str(st.store),
            "done": [{"job_key": j.key, "job": j.title, "record_key": r.key, "gamma": r.measurement.gamma,
                      "gamma_ci95": [r.measurement.gamma_ci95_lo, r.measurement.gamma_ci95_hi]} for j, r in st.done],
            "failed": [{"job_key": j.key, "job": j.title, "attempts": len(fs), "error_type": fs[-1].error_type,
                        "reason": fs[-1].reason} for j, fs in st.failed],
            "pending": [{"job_key": j.key, "job": j.title} for j in st.pending],
            "duplicates": st.duplicates, "foreign_records": st.foreign, "orphan_records": st.orphans})
        return
    rows = [["done", j.title, f"gamma {_f(r.measurement.gamma)} [{_f(r.measurement.gamma_ci95_lo)}, "
                              f"{_f(r.measurement.gamma_ci95_hi)}]", j.key[:12]] for j, r in st.done]
    rows += [["failed", j.title, f"{len(fs)} attempt(s); {fs[-1].error_type}: {fs[-1].reason}", j.key[:12]]
             for j, fs in st.failed]
    rows += [["pending", j.title, "", j.key[:12]] for j in st.pending]
    _table(f"{len(st.done)} done, {len(st.failed)} failed, {len(st.pending)} pending ({st.store})",
           ["status", "job", "result / reason", "job key"], rows)
    err = stderr_console()
    if st.duplicates:
        err.print(f"note: {st.duplicates} duplicate record(s) in the store (the first of each job is used)",
                  markup=False)
    if st.orphans:
        err.print(f"note: {st.orphans} record(s) of jobs no longer in the panel file", markup=False)
    if st.foreign:
        err.print(f"note: {st.foreign} measurement record(s) without a panel job key are ignored", markup=False)


@panel_app.command("score")
def score_cmd(
    panel: Path = _PANEL, store: Optional[Path] = _STORE,
    protocol: Optional[str] = typer.Option(None, "--protocol", help="Protocol label (required with several)"),
    precision: Optional[str] = typer.Option(None, "--precision", help="Precision (required with several)"),
    include_random_init: bool = typer.Option(False, "--include-random-init", help="Also score random-init records"),
    json_: bool = _JSON,
) -> None:
    """Score the TAF predictions on the panel's records (the reference-panel scorecard)."""
    from attnscope.cli._common import print_json, stderr_console, to_jsonable
    from attnscope.panel.run import score_panel

    sc = to_jsonable(score_panel(panel, store=store, protocol=protocol, precision=precision,
                                 include_random_init=include_random_init))
    if sc["panel"]["excluded_random_init"]:
        stderr_console().print(f"note: {sc['panel']['excluded_random_init']} random-init record(s) left out "
                               "(--include-random-init to score them)", markup=False)
    if json_:
        print_json(sc)
        return
    _table(f"TAF scorecard of {sc['panel']['source']} (`--json` for every estimate and CI)",
           ["claim", "n", "verdict"], [[k, v.get("n"), v.get("verdict")] for k, v in sc.items() if k != "panel"])


@panel_app.command("export")
def export_cmd(panel: Path = _PANEL, store: Optional[Path] = _STORE,
               out: Optional[Path] = typer.Option(None, "--out", help="Parquet file (default: STORE/records.parquet)")
               ) -> None:
    """Export the store's records as one flat parquet table (needs the parquet extra)."""
    from attnscope.panel.spec import load_panel
    from attnscope.panel.store import Store, export_parquet

    spec = load_panel(panel)
    path = export_parquet(Store(store if store is not None else spec.store_path), out)
    print(f"wrote {path}", file=sys.stderr)
