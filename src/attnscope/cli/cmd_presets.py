"""``attnscope presets``: the bundled model configs (no weights), from config.json alone.

Imports cheaply: attnscope.arch (pydantic only) is imported inside the command.
"""
from __future__ import annotations

import sys

import typer

from attnscope.cli import app

COLUMNS = ["name", "hf_id", "family", "params_M", "active_M", "published_M", "position", "theta", "T_train"]


def _theta(v: float | None) -> str:
    if v is None:
        return "—"
    return str(int(v)) if float(v).is_integer() else format(v, "g")


def _num(v: float | int | None, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


@app.command("presets")
def presets_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list to stdout instead of a table."),
) -> None:
    """List bundled presets: name, HF id, family, parameters (estimated and published), θ, T_train.

    Any preset name or its HF id (case-insensitive) works as MODEL in other commands.

    Examples:
      attnscope presets
      attnscope presets --json | python -m json.tool
    """
    from attnscope.arch import list_presets
    from attnscope.cli._common import print_json, stdout_console

    items = list_presets()
    if as_json:
        print_json([
            {"name": p.name, "hf_id": p.hf_id, "family": p.family, "n_params_M": round(p.n_params_M, 3),
             "n_params_active_M": None if p.n_params_active_M is None else round(p.n_params_active_M, 3),
             "n_params_published_M": p.n_params_published_M, "n_params_source": p.n_params_source,
             "position_encoding": p.position_encoding, "rope_theta": p.rope_theta, "T_train": p.T_train,
             "note": p.note}
            for p in items
        ])
        return
    rows = [[p.name, p.hf_id, p.family, _num(p.n_params_M, ",.1f"), _num(p.n_params_active_M, ",.1f"),
             _num(p.n_params_published_M, ",.1f"), p.position_encoding, _theta(p.rope_theta),
             _num(p.T_train, "d")] for p in items]
    console = stdout_console()
    if console.is_terminal:
        from rich.table import Table

        table = Table(title=f"attnscope presets ({len(items)})", title_justify="left")
        for c in COLUMNS:
            table.add_column(c, justify="right" if c in ("params_M", "active_M", "published_M", "theta", "T_train")
                             else "left")
        for r in rows:
            table.add_row(*r)
        console.print(table)
    else:
        sys.stdout.write("\t".join(COLUMNS) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
