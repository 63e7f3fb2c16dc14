"""The dated, user-editable price table (GPUs and APIs) used by the cost recipes and ``fit``.

The default table ships as ``attnscope/data/prices.json``; ``--prices PATH`` (or
``load_prices(path)``) replaces it. Every row carries its date and a source note,
which the recipes copy into their audit trail.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attnscope.errors import ConfigError

DEFAULT_PRICES = Path(__file__).resolve().parent.parent / "data" / "prices.json"


class GPU(BaseModel):
    """One accelerator: peak dense BF16 TFLOP/s, memory (GiB), bandwidth (GB/s), rental $/h."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    tflops_bf16: float = Field(gt=0)
    memory_gb: float = Field(gt=0)
    bandwidth_gbs: float = Field(gt=0)
    usd_per_hour: float | None = Field(default=None, ge=0)
    date: str
    source: str


class API(BaseModel):
    """One hosted API: USD per million input / output tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    usd_per_mtok_input: float = Field(ge=0)
    usd_per_mtok_output: float = Field(ge=0)
    date: str
    source: str


class PriceTable(BaseModel):
    """A dated price table; ``path`` records where it was read from."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: int
    date: str
    currency: str
    note: str = ""
    gpus: list[GPU]
    apis: list[API]
    path: str = ""

    def gpu(self, name: str) -> GPU:
        """The GPU row called ``name`` (case-insensitive); ConfigError listing the choices otherwise."""
        for g in self.gpus:
            if g.name.lower() == name.lower():
                return g
        raise ConfigError(f"unknown GPU; the price table ({self.path}) has: "
                          + ", ".join(g.name for g in self.gpus), field="gpu", value=name)

    def api(self, name: str) -> API:
        """The API row called ``name`` (case-insensitive); ConfigError listing the choices otherwise."""
        for a in self.apis:
            if a.name.lower() == name.lower():
                return a
        raise ConfigError(f"unknown API; the price table ({self.path}) has: "
                          + ", ".join(a.name for a in self.apis), field="api", value=name)


def load_prices(path: str | Path | None = None) -> PriceTable:
    """Read a price table (default: the shipped, dated one).

    Raises
    ------
    ConfigError
        The file is missing, not JSON, or does not match the schema (field ``prices``).
    """
    return _load(str(Path(path).resolve()) if path is not None else str(DEFAULT_PRICES))


@lru_cache(maxsize=8)
def _load(path: str) -> PriceTable:
    p = Path(path)
    if not p.is_file():
        raise ConfigError("no such price table file", field="prices", value=path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"price table is not JSON ({exc.msg} at line {exc.lineno})",
                          field="prices", value=path) from None
    if not isinstance(raw, dict):
        raise ConfigError("price table must be a JSON object", field="prices", value=path)
    try:
        return PriceTable(**{**raw, "path": path})
    except (ValidationError, TypeError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"price table does not match the schema at {where}: {first['msg']}",
                          field="prices", value=path) from None
