"""``attnscope dataset``: the reference panel (published TAF measurements), its scorecard, comparisons.

Examples::

    attnscope dataset list                 # the main runs (model x corpus) with gamma, CIs, flags
    attnscope dataset list --all           # + re-runs, partial, layerwise, pairs, fields, excluded files
    attnscope dataset show pythia-160m     # every record of a model, with the re-derivation
    attnscope dataset export --format csv --out panel.csv
    attnscope dataset score --json         # one object, a key per TAF claim
    attnscope dataset score --out docs     # docs/scorecard.md + docs/figures/scorecard_*.png
    attnscope dataset compare results.jsonl
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import typer

from attnscope.cli import app

dataset_app = typer.Typer(help="The reference panel: published TAF measurements, re-derived and scored.",
                          no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")

_JSON = typer.Option(False, "--json", help="Print one JSON object to stdout instead of tables.")


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from attnscope.cli._common import print_table

    print_table(title, columns, rows, fmt=_fmt)


@contextmanager
def _writable(out: Path):
    """Turn a failed write (missing parent, permissions, a file where a folder should be) into one line."""
    from attnscope.errors import ProtocolError

    try:
        yield
    except OSError as exc:
        raise ProtocolError(f"cannot write there ({exc.strerror or exc})", field="out", value=str(out)) from None


def _record_row(rec) -> list[Any]:
    m = rec.measurement
    ci = (m.gamma_ci95_lo, m.gamma_ci95_hi) if m.gamma_ci95_lo is not None else None
    seed = rec.provenance.extra.get("seed_cluster_ci95")
    return [rec.model_id, m.corpus, m.gamma, ci, (seed["lo"], seed["hi"]) if seed else None,
            m.fit.R2 if m.fit else None, m.fit.n_points if m.fit else None, m.T_eval,
            m.null.gamma_uniform if m.null else None, rec.predictions.gamma_pade, "; ".join(rec.quality) or "clean"]


_COLS = ["model", "corpus", "gamma", "CI (published)", "CI (seeds)", "R2", "n_pts", "T_eval", "gamma_uniform",
         "gamma_pade", "quality"]


@dataset_app.command("list")
def list_cmd(all_: bool = typer.Option(False, "--all", help="Include every record kind and the excluded files."),
             json_: bool = _JSON) -> None:
    """List the panel: main e4 runs by default; --all adds re-runs, partial runs, fields, trajectories, exclusions."""
    from attnscope.cli._common import print_json
    from attnscope.dataset.load import load_manifest, load_panel
    from attnscope.dataset.panel import _kind

    recs = load_panel()
    shown = recs if all_ else [r for r in recs if _kind(r.quality) == "main"]
    if json_:
        obj: dict[str, Any] = {"measurements": [dict(zip(_COLS, _record_row(r))) for r in shown]}
        if all_:
            obj["gamma_fields"] = [{"model": f.model_id, "revision": f.revision, "quality": f.quality}
                                   for f in load_panel("gamma_field")]
            obj["training_trajectories"] = [{"model": t.model_id, "n_checkpoints": len(t.checkpoints),
                                             "source": t.provenance.source} for t in load_panel("training_trajectory")]
            obj["files"] = load_manifest()
        print_json(obj)
        return
    _table(f"measurement records ({len(shown)} of {len(recs)})", _COLS, [_record_row(r) for r in shown])
    if all_:
        _table("gamma fields", ["model", "revision", "layers x heads", "gamma_global", "quality"],
               [[f.model_id, f.revision, f"{f.n_layers}x{f.n_heads}", f.gamma_global_fit, "; ".join(f.quality)]
                for f in load_panel("gamma_field")])
        _table("training trajectories", ["model", "checkpoints", "source", "quality"],
               [[t.model_id, len(t.checkpoints), t.provenance.source, "; ".join(t.quality)]
                for t in load_panel("training_trajectory")])
        man = [m for m in load_manifest() if m["disposition"] != "converted"]
        _table("raw files not converted (with the reason)", ["file", "disposition", "reason"],
               [[m["path"], m["disposition"], m["reason"]] for m in man])


@dataset_app.command("show")
def show_cmd(model: str = typer.Argument(..., help="HF id or short name, e.g. pythia-160m"), json_: bool = _JSON) -> None:
    """Every record of one model, with the re-derivation of its published fits and its defects."""
    import dataclasses

    from attnscope.cli._common import print_json
    from attnscope.dataset.load import find_model, load_panel
    from attnscope.dataset.rederive import rederive_record

    recs = find_model(model, load_panel())
    mid = recs[0].model_id
    fields = [f for f in load_panel("gamma_field") if f.model_id == mid]
    trajs = [t for t in load_panel("training_trajectory") if t.model_id == mid]
    if json_:
        print_json({"model_id": mid, "records": [
            {"record": r.model_dump(mode="json"), "rederivation": dataclasses.asdict(rederive_record(r))} for r in recs],
            "gamma_fields": [f.model_dump(mode="json") for f in fields],
            "training_trajectories": [t.model_dump(mode="json") for t in trajs]})
        return
    _table(mid, _COLS, [_record_row(r) for r in recs])
    if fields:
        _table(f"{mid}: gamma fields (per layer x head)", ["revision", "layers x heads", "gamma_global", "quality"],
               [[f.revision, f"{f.n_layers}x{f.n_heads}", f.gamma_global_fit, "; ".join(f.quality)] for f in fields])
    for t in trajs:
        _table(f"{mid}: training trajectory ({t.provenance.source})", ["step", "gamma", "R2", "lambada_acc"],
               [[c.step, c.gamma, c.R2, c.benchmarks.get("lambada_acc")] for c in t.checkpoints if c.gamma is not None])
    for r in recs:
        rd = rederive_record(r)
        if not rd.checks:
            continue
        _table(f"re-derivation: {r.model_id} {r.measurement.corpus} ({r.provenance.source})",
               ["field", "stored", "recomputed", "|diff|", "agrees"],
               [[c.name, c.stored, c.recomputed, c.abs_diff, c.agrees] for c in rd.checks]
               + [["gamma CI", rd.ci.stored, rd.ci.recomputed, rd.ci.stored_quantiles, rd.ci.agrees]])


@dataset_app.command("export")
def export_cmd(format_: str = typer.Option(..., "--format", help="jsonl | csv | parquet (needs the parquet extra)"),
               out: Path = typer.Option(..., "--out", help="Output file."),
               kind: str = typer.Option("measurement", "--kind", help="measurement | gamma_field | training_trajectory")) -> None:
    """Export the panel (JSONL: records verbatim; CSV/Parquet: one flat row per measurement record)."""
    from attnscope.dataset.export import export_panel

    with _writable(out):
        path = export_panel(format_, out, kind=kind)
    print(f"wrote {path}", file=sys.stderr)


@dataset_app.command("score")
def score_cmd(json_: bool = _JSON, out: Optional[Path] = typer.Option(
        None, "--out", help="Write DIR/scorecard.md and DIR/figures/scorecard_*.png.")) -> None:
    """Score every TAF prediction on the panel (n, estimates, 95% CIs, verdicts)."""
    from attnscope.cli._common import print_json, to_jsonable
    from attnscope.dataset.score_more import scorecard

    sc = to_jsonable(scorecard())
    if out is not None:
        from attnscope.dataset.figures import write_figures
        from attnscope.dataset.load import load_panel
        from attnscope.dataset.panel import panel_rows
        from attnscope.dataset.report import render_markdown, rederivation_summary
        from attnscope.io import atomic_write_text

        recs = load_panel()
        with _writable(out):
            figs = write_figures(sc, panel_rows(recs), Path(out) / "figures")
            md = render_markdown(sc, rederivation_summary(recs), [f.name for f in figs])
            atomic_write_text(Path(out) / "scorecard.md", md)
        print(f"wrote {Path(out) / 'scorecard.md'} and {len(figs)} figures", file=sys.stderr)
    if json_:
        print_json(sc)
        return
    _table("TAF scorecard (clean panel; `--json` for every estimate and CI)", ["claim", "n", "verdict"],
           [[k, v.get("n"), v.get("verdict")] for k, v in sc.items() if k != "panel"])


@dataset_app.command("compare")
def compare_cmd(results: Path = typer.Argument(..., help="JSONL of MeasurementRecords (attnscope measure output)."),
                k: int = typer.Option(3, "-k", min=1, help="Nearest panel models to list."), json_: bool = _JSON) -> None:
    """Place your own records against the panel: nearest models and which TAF rules hold for them."""
    from attnscope.cli._common import print_json
    from attnscope.dataset.compare import compare_records, read_user_records

    res = compare_records(read_user_records(results), k=k)
    if json_:
        print_json(res)
        return
    for r in res["records"]:
        _table(f"{r['model_id']} ({r['corpus']}, {r['protocol']}): gamma = {r['gamma']:.4f}",
               ["nearest by gamma", "gamma", "difference"],
               [[n["model_id"] + f" ({n['corpus']})", n["gamma"], n["difference"]] for n in r["nearest_by_gamma"]])
        if r["nearest_by_arch"]:
            _table("nearest by architecture (log10 theta, log10 params)", ["model", "theta", "params", "gamma"],
                   [[n["model_id"], n["theta"], n["n_params"], n["gamma"]] for n in r["nearest_by_arch"]])
        if r["defects"]:
            _table("defects (the panel's rules)", ["flag"], [[d] for d in r["defects"]])
        _table("rules", ["rule", "holds", "detail"],
               [[name, d.get("holds", d.get("verdict")), {x: y for x, y in d.items() if x != "holds"}]
                for name, d in r["rules"].items()])
    for s in res["skipped"]:
        print(f"skipped {s['model_id']}: {s['reason']}", file=sys.stderr)
    for n in res["notes"]:
        print(f"note: {n}", file=sys.stderr)
