"""Typed access to raw config.json keys, with one-line errors naming the key.

A :class:`Ctx` carries the raw config and collects ``warnings`` (guessed values)
and ``notes`` (values fixed by the architecture or its reference implementation,
which are not guesses).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from attnscope.errors import ConfigError, DomainError

_MISSING = object()


@dataclass
class Ctx:
    """Parsing context: the (text) config dict plus collected warnings and notes."""

    cfg: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def has(self, key: str) -> bool:
        return key in self.cfg and self.cfg[key] is not None

    def first(self, keys: Iterable[str]) -> tuple[str | None, Any]:
        """The first key of ``keys`` present with a non-null value, and that value."""
        for k in keys:
            if self.has(k):
                return k, self.cfg[k]
        return None, None

    def req_int(self, keys: tuple[str, ...], *, minimum: int = 1) -> int:
        """A required positive integer under any of ``keys`` (ConfigError naming the key)."""
        k, v = self.first(keys)
        if k is None:
            raise ConfigError(
                f"required key missing from config (any of {', '.join(keys)})", field=keys[0], value=None
            )
        return as_int(v, field=k, minimum=minimum)

    def opt_int(self, keys: tuple[str, ...], *, minimum: int = 1) -> int | None:
        k, v = self.first(keys)
        return None if k is None else as_int(v, field=k, minimum=minimum)

    def opt_float(self, keys: tuple[str, ...]) -> float | None:
        k, v = self.first(keys)
        return None if k is None else as_float(v, field=k)

    def flag(self, key: str, default: bool) -> bool:
        """A boolean config flag (ConfigError if present but not a bool)."""
        v = self.opt_bool(key)
        return default if v is None else v

    def int_or(self, key: str, default: int, *, minimum: int = 1) -> int:
        """An integer config value, or ``default`` when absent/null."""
        v = self.opt_int((key,), minimum=minimum)
        return default if v is None else v

    def opt_bool(self, key: str) -> bool | None:
        if not self.has(key):
            return None
        v = self.cfg[key]
        if not isinstance(v, bool):
            raise ConfigError("expected true or false", field=key, value=v)
        return v


def as_int(v: Any, *, field: str, minimum: int = 1) -> int:
    """Validate a config integer (floats with integral value accepted, bools rejected)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError("expected an integer", field=field, value=v)
    if isinstance(v, float):
        if not math.isfinite(v) or v != int(v):
            raise ConfigError("expected an integer", field=field, value=v)
        v = int(v)
    if v < minimum:
        raise DomainError(f"must be >= {minimum}", field=field, value=v)
    return int(v)


def as_float(v: Any, *, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError("expected a number", field=field, value=v)
    v = float(v)
    if not math.isfinite(v):
        raise DomainError("must be finite", field=field, value=v)
    return v


def as_theta(v: Any, *, field: str) -> float:
    """A RoPE base θ: a finite number > 0 (DomainError otherwise)."""
    t = as_float(v, field=field)
    if t <= 0:
        raise DomainError("RoPE base theta must be > 0", field=field, value=v)
    return t
