"""Shared helpers for command modules: consoles and output formats.

Data goes to stdout; logs, warnings, hints and errors go to stderr.
Rich tables on a terminal, plain text when piped.
"""
from __future__ import annotations

import json
import sys
from typing import Any


def stdout_console():
    from rich.console import Console

    # force_terminal=None lets rich detect a pipe and print plain text.
    return Console(soft_wrap=True, highlight=False)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True, highlight=False)


def print_json(obj: Any) -> None:
    """Print one JSON object to stdout (pydantic models and dataclasses accepted)."""
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


def to_jsonable(obj: Any) -> Any:
    import dataclasses
    import math

    if hasattr(obj, "model_dump"):
        return to_jsonable(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return to_jsonable(obj.item())
    return obj


def _parse_list(text: str, *, field: str, convert, noun: str) -> list:
    from attnscope.errors import ProtocolError

    try:
        values = [convert(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ProtocolError(f"expected comma-separated {noun}s", field=field, value=text) from None
    if not values:
        raise ProtocolError(f"expected at least one {noun}", field=field, value=text)
    return values


def parse_int_list(text: str, *, field: str) -> list[int]:
    """Parse "10,20,30" into [10, 20, 30]; one-line ProtocolError naming the field otherwise."""
    return _parse_list(text, field=field, convert=int, noun="integer")


def parse_float_list(text: str, *, field: str) -> list[float]:
    """Parse "0.5,0.9" into [0.5, 0.9]; one-line ProtocolError naming the field otherwise."""
    return _parse_list(text, field=field, convert=float, noun="number")


def print_table(title: str, columns: list[str], rows: list[list[Any]], *, fmt=str, console=None) -> None:
    """A rich table on a terminal; ``# title`` + tab-separated plain text when piped.

    ``fmt`` turns each cell into text (e.g. fixed decimals, "—" for None).
    """
    console = console or stdout_console()
    if console.is_terminal:
        from rich.table import Table

        t = Table(title=title, title_justify="left")
        for c in columns:
            t.add_column(c, overflow="fold")
        for r in rows:
            t.add_row(*[fmt(x) for x in r])
        console.print(t)
    else:
        lines = [f"# {title}", "\t".join(columns)] + ["\t".join(fmt(x) for x in r) for r in rows]
        sys.stdout.write("\n".join(lines) + "\n\n")
