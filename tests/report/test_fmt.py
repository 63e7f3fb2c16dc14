"""Number formatting: values with CIs at the precision their CI supports."""
import math

import pytest

from attnscope.report import fmt


@pytest.mark.parametrize("v, lo, hi, expected", [
    (0.8312, 0.7904, 0.8801, "0.83 [0.79, 0.88]"),        # the documented example
    (42.73, 40.1, 45.2, "42.7 [40.1, 45.2]"),              # width 5.1 -> one decimal
    (7.68e-6, -1.9e-4, 2.0e-4, "0.00001 [-0.00019, 0.00020]"),
    (0.5, None, None, "0.500"),                            # no CI: 3 significant digits, no brackets
    (0.5, float("nan"), 0.6, "0.500"),                     # an undefined bound is no CI
])
def test_ci(v, lo, hi, expected):
    assert fmt.ci(v, lo, hi) == expected


def test_ci_precision_follows_width():
    for width in (1e-4, 1e-3, 0.02, 0.3, 4.0):
        s = fmt.ci(1.0, 1.0 - width / 2, 1.0 + width / 2)
        lo_s = s.split("[")[1].split(",")[0]
        # the printed bounds differ: the precision resolves the interval
        assert lo_s != s.split(", ")[1].rstrip("]")
        assert abs(float(lo_s) - (1.0 - width / 2)) <= width  # rounding error smaller than the width


def test_missing_and_special_values():
    assert fmt.ci(None) == fmt.DASH and fmt.num(None) == fmt.DASH and fmt.num(math.inf) == fmt.DASH
    assert fmt.num(-0.0) == "0" and fmt.ci(-1e-9, -0.1, 0.1).startswith("0.00 ")  # no "-0.00"
    assert fmt.tokens(2047.9999) == "2,048" and fmt.pct(0.123) == "12.3%"
    assert fmt.pair((0.1, 0.3), 0.2) == fmt.ci(0.2, 0.1, 0.3)
    assert fmt.num(70426624.0) == "7.04e+07" and fmt.num(True) == "True"


@pytest.mark.parametrize("verdict, cls", [
    ("decays faster than uniform", "good"), ("indistinguishable from uniform attention", "neutral"),
    ("decays slower than uniform", "warn"), ("above the random-subspace null", "good"), ("", "neutral"),
])
def test_badge_class(verdict, cls):
    assert fmt.badge_class(verdict) == cls
