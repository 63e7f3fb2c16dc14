"""``attnscope serve``: the local web app and JSON API (needs the ``serve`` extra).

FastAPI and uvicorn are imported inside the command.
"""
from __future__ import annotations

from pathlib import Path

import typer

from attnscope.cli import app

_EXAMPLES = """
Examples:

  attnscope serve                                  # http://127.0.0.1:8000, working folder = .
  attnscope serve --port 8080 --workdir runs/      # results listed from runs/, uploads to runs/uploads/
  HF_HUB_OFFLINE=1 attnscope serve                 # air-gapped: unknown names fail at once, no hub retries
"""


@app.command("serve", epilog=_EXAMPLES)
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind. Anything but loopback exposes the "
                                                        "server (and your working folder's results) to the network."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    workdir: Path = typer.Option(Path("."), "--workdir", help="Working folder: results are read from it, uploads "
                                 "written to WORKDIR/uploads/; nothing is written elsewhere."),
    max_upload_mib: float = typer.Option(20.0, "--max-upload-mib", min=0.001, max=1024,
                                         help="Largest accepted upload, MiB."),
) -> None:
    """Serve the web app (Profile, Compare, Recipes, Dataset, Results, Ask) and the JSON API under /api.

    Binds to localhost by default; the OpenAPI schema is at /api/openapi.json, rendered at /api/docs.
    """
    import sys
    import threading

    from attnscope.errors import require_extra
    from attnscope.serve.app import LOOPBACK, create_app

    uvicorn = require_extra("uvicorn", "serve")
    loopback = host in LOOPBACK
    allowed = list(LOOPBACK) if loopback else None
    application = create_app(workdir, max_upload_bytes=int(max_upload_mib * 2**20), allowed_hosts=allowed)
    if not loopback:
        sys.stderr.write(f"warning: binding {host}: the server is reachable from other machines; it has no "
                         "authentication\n")
    threading.Thread(target=_warm_up, name="attnscope-warm-up", daemon=True).start()
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"attnscope serve: http://{shown}:{port}/  (working folder {application.state.workdir.root}; "
                     "Ctrl-C stops)\n")
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


def _warm_up() -> None:
    """Compute the cached pieces (scorecard, phase diagram, presets) while the first page is being read."""
    import sys

    from attnscope.errors import AttnscopeError
    from attnscope.serve import pages, service

    try:
        pages.model_choices()
        service.scorecard()
        pages.phase_html()
    except AttnscopeError as exc:  # the Dataset page will show the same error when opened
        sys.stderr.write(f"warning: warm-up: {exc.one_line()}\n")
