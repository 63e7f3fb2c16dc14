"""Number formatting for the report: values with their CI, significant digits, missing values.

All formatters are pure and also registered as jinja2 filters (see :mod:`attnscope.report.render`).
The precision of a value with a CI follows the CI width: two significant digits of the
width, so "0.83 [0.79, 0.88]" and not "0.831203 [0.790441, 0.880107]".
"""
from __future__ import annotations

import math
from typing import Any, Optional

DASH = "—"


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _clean_zero(s: str) -> str:
    """'-0.00' -> '0.00' (a rounded tiny negative is not a sign)."""
    if s.startswith("-") and set(s[1:]) <= set("0.") and any(ch == "0" for ch in s[1:]):
        return s[1:]
    return s


def num(v: Any, sig: int = 3) -> str:
    """A number with ``sig`` significant digits; integers verbatim; None/NaN -> em dash.

    Parameters
    ----------
    v : int, float or None
    sig : int
        Significant digits for floats (>= 1).
    """
    if v is None or isinstance(v, bool):
        return DASH if v is None else str(v)
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10_000 else str(v)
    if not _finite(v):
        return DASH
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if mag >= 6 or mag <= -5:
        return _clean_zero(f"{v:.{max(sig - 1, 0)}e}")
    decimals = max(sig - 1 - mag, 0)
    return _clean_zero(f"{v:,.{decimals}f}" if abs(v) >= 10_000 else f"{v:.{decimals}f}")


def _decimals_for(width: float) -> Optional[int]:
    """Decimals that show two significant digits of a CI width (None: use scientific)."""
    if not _finite(width) or width <= 0:
        return None
    d = 1 - math.floor(math.log10(width))
    return max(d, 0) if d <= 6 else None


def ci(v: Any, lo: Any = None, hi: Any = None, sig: int = 3) -> str:
    """``"0.83 [0.79, 0.88]"``: a value with its 95% CI at a precision set by the CI width.

    Without a (finite) CI the value is shown with ``sig`` significant digits and no brackets.
    """
    if not _finite(v):
        return DASH
    if not (_finite(lo) and _finite(hi)):
        return num(v, sig)
    dec = _decimals_for(float(hi) - float(lo))
    if dec is None:
        if hi == lo:
            return f"{num(v, sig)} [{num(lo, sig)}, {num(hi, sig)}]"
        return f"{v:.2e} [{lo:.2e}, {hi:.2e}]"
    dec = min(dec, 2) if dec >= 2 and abs(float(hi) - float(lo)) >= 0.05 else dec
    return "{} [{}, {}]".format(*(_clean_zero(f"{x:.{dec}f}") for x in (v, lo, hi)))


def pair(pair_: Any, v: Any = None, sig: int = 3) -> str:
    """A value with a ``(lo, hi)`` tuple CI (atlas records store CIs as pairs)."""
    lo, hi = (pair_ if isinstance(pair_, (list, tuple)) and len(pair_) == 2 else (None, None))
    return ci(v, lo, hi, sig)


def tokens(v: Any) -> str:
    """Token counts: 4096 -> '4,096'; floats rounded; None -> em dash."""
    if not _finite(v):
        return DASH
    return f"{int(round(float(v))):,}"


def pct(v: Any, digits: int = 1) -> str:
    """A fraction as a percentage: 0.0123 -> '1.2%'."""
    if not _finite(v):
        return DASH
    return f"{100.0 * float(v):.{digits}f}%"


GOOD = {"yes", "go", "clean", "in-band", "soft decay", "fits", "ok", "decays faster than uniform",
        "above the random-subspace null", "validated"}
WARN = {"degraded", "unvalidated", "outlier", "ambiguous", "memory-limited", "over-imprinted", "under-imprinted",
        "hard window", "decays slower than uniform", "borderline", "exploratory", "anomaly"}
BAD = {"no", "does not fit", "not viable", "disabled"}
NEUTRAL = {"", "n/a", "prediction only", "indistinguishable from uniform attention", "indistinguishable from null",
           "no null baseline"}


def badge_class(verdict: Any) -> str:
    """CSS class of a verdict badge: good / warn / bad / neutral, else info (e.g. regimes, API vs TRAIN)."""
    t = " ".join(str(verdict or "").lower().split())
    for cls, words in (("neutral", NEUTRAL), ("good", GOOD), ("warn", WARN), ("bad", BAD)):
        if t in words:
            return cls
    if t.startswith("indistinguishable"):
        return "neutral"
    return "info"
