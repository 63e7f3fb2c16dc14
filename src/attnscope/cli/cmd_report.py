"""``attnscope report``: one self-contained HTML file from cards, records and trajectories.

jinja2 and matplotlib are imported inside the command.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from attnscope.cli import app

_EXAMPLES = """
Examples:

  attnscope report results.jsonl -o report.html

  attnscope report tiny-main results.jsonl atlas.json traj.json -o report.html

  attnscope report llama-3-8b mistral-7b --context 32768 -o cards.html

  attnscope report results.jsonl --no-panel --title "θ sweep" -o report.html
"""


@app.command("report", epilog=_EXAMPLES)
def report_cmd(
    inputs: list[str] = typer.Argument(..., help="Model sources (preset, bundled model, folder, config.json, hub id), "
                                                 "results JSONL, atlas / record JSON, trajectory JSON; kind detected "
                                                 "by content."),
    out: Path = typer.Option(..., "--out", "-o", help="HTML file to write (atomic write)."),
    panel: bool = typer.Option(True, "--panel/--no-panel", help="Place the models on the packaged reference panel."),
    context: Optional[int] = typer.Option(None, "--context", help="Context (tokens) for the TAF cards "
                                                                  "(default: each model's T_train)."),
    title: Optional[str] = typer.Option(None, "--title", help="Page title (default: from the model names)."),
    open_: bool = typer.Option(False, "--open", help="Open the report in the default web browser when written."),
) -> None:
    """Write one self-contained HTML report (inline SVG figures, no network) of the INPUTs."""
    import sys

    from attnscope.cli._common import stderr_console
    from attnscope.errors import AttnscopeError
    from attnscope.io import atomic_write_text
    from attnscope.report.inputs import load_inputs
    from attnscope.report.render import build_sections, page_title, render_page

    if out.is_dir():
        raise AttnscopeError("is a folder: give the HTML file to write", field="out", value=str(out))
    bundle = load_inputs(inputs, context=context)
    sections = build_sections(bundle, panel=panel)
    html = render_page(sections, title=title or page_title(bundle),
                       subtitle=f"{len(bundle.inputs)} input(s): " + ", ".join(i.label for i in bundle.inputs))
    try:
        atomic_write_text(out, html)
    except OSError as exc:
        raise AttnscopeError(f"cannot write the report ({exc.strerror or exc})", field="out", value=str(out)) from None
    err = stderr_console()
    for w in bundle.warnings:
        err.print(f"warning: {w}", markup=False)
    n = sum(1 for s in sections if s.group not in ("summary", "inputs"))
    sys.stdout.write(f"wrote {out} ({n} sections, {len(html.encode()) / 1024:.0f} KB)\n")
    if open_:
        import webbrowser

        if not webbrowser.open(out.resolve().as_uri()):
            err.print(f"no web browser available here: open {out} yourself", markup=False)
