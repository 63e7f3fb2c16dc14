"""Boundary validation shared by the theory functions (raise DomainError with field and value)."""
from __future__ import annotations

import math
import numbers

from attnscope.errors import DomainError


def real(name: str, value) -> float:
    """A finite real number (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DomainError("must be a real number", field=name, value=value)
    x = float(value)
    if not math.isfinite(x):
        raise DomainError("must be finite", field=name, value=value)
    return x


def positive(name: str, value) -> float:
    x = real(name, value)
    if x <= 0:
        raise DomainError("must be > 0", field=name, value=value)
    return x


def open_interval(name: str, value, lo: float, hi: float) -> float:
    x = real(name, value)
    if not lo < x < hi:
        raise DomainError(f"must lie in the open interval ({lo:g}, {hi:g})", field=name, value=value)
    return x


def integer_ge(name: str, value, lo: int) -> int:
    """An integer >= lo (integral floats such as 2048.0 accepted; bools rejected)."""
    if isinstance(value, bool):
        raise DomainError("must be an integer", field=name, value=value)
    if isinstance(value, numbers.Integral):
        n = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        n = int(value)
    else:
        raise DomainError("must be an integer", field=name, value=value)
    if n < lo:
        raise DomainError(f"must be >= {lo}", field=name, value=value)
    return n
