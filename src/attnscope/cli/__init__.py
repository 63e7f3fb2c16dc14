"""The ``attnscope`` command line: a thin front end over the library.

Every ``cmd_*.py`` module in this package registers its commands on :data:`app`
when imported. Command modules must import cheaply: torch, transformers and
matplotlib are imported inside the command functions that need them, so that
config-only commands (``card``, ``recipe``, ``fit``, ``presets``) start fast.

Known user errors (:class:`attnscope.errors.AttnscopeError`) become one line on
stderr and exit code 2; ``ATTNSCOPE_DEBUG=1`` shows the traceback. Usage errors
are typer's (exit 2); Ctrl-C exits 130 through typer's standalone mode.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

app = typer.Typer(
    name="attnscope",
    help="Predict and measure how transformer language models attend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """Predict (config only) and measure (weights) attention decay, heads and depth schedules."""


def _load_commands() -> None:
    package = sys.modules[__name__]
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}")


_load_commands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from attnscope.errors import AttnscopeError

    try:
        app(args=argv, prog_name="attnscope")
    except AttnscopeError as exc:
        if os.environ.get("ATTNSCOPE_DEBUG"):
            raise
        print(f"attnscope: error: {exc.one_line()}", file=sys.stderr)
        sys.exit(2)


def run(argv: list[str]) -> int:
    """Run the CLI in-process and return its exit code instead of exiting (tests, embedding).

    Exit codes follow :func:`sys.exit`: ``None`` is 0, an int is itself, anything else is 1.
    """
    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
