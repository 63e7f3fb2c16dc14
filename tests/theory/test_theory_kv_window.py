"""D_f(γ, N, f) equals brute-force cumulative sums; published reference values; H(D, γ) oracles."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import digamma, zeta

from attnscope.errors import DomainError
from attnscope.theory import harmonic, kv_window

from _brute import brute_kv_window

GAMMAS = st.floats(min_value=0.0, max_value=3.0, allow_nan=False)
FRACS = st.floats(min_value=1e-6, max_value=1.0, allow_nan=False, exclude_min=False)


@pytest.mark.parametrize("gamma,expected", [(0.748, 1392), (1.0, 883), (1.5, 44)])
def test_published_reference_values(gamma, expected):
    # TAF paper Table §7.1 values must come out of the computation.
    assert kv_window(gamma, 2000, 0.9) == expected
    assert brute_kv_window(gamma, 2000, 0.9) == expected


@settings(max_examples=150, deadline=None)
@given(gamma=GAMMAS, N=st.integers(min_value=1, max_value=5000), f=FRACS)
def test_equals_brute_force_small_N(gamma, N, f):
    assert kv_window(gamma, N, f) == brute_kv_window(gamma, N, f)


@settings(max_examples=25, deadline=None)
@given(gamma=GAMMAS, N=st.integers(min_value=5001, max_value=10**6), f=FRACS)
def test_equals_brute_force_large_N(gamma, N, f):
    assert kv_window(gamma, N, f) == brute_kv_window(gamma, N, f)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.999999999, 1.0, 1.000000001, 1.7, 3.0])
@pytest.mark.parametrize("f", [0.5, 0.9, 0.99, 1 - 1e-12])
def test_equals_brute_force_at_1e6(gamma, f):
    assert kv_window(gamma, 10**6, f) == brute_kv_window(gamma, 10**6, f)


@settings(max_examples=60, deadline=None)
@given(gamma=GAMMAS, N=st.integers(min_value=2, max_value=10**5),
       f1=st.floats(0.01, 1.0), f2=st.floats(0.01, 1.0))
def test_monotone_in_f_and_bounds(gamma, N, f1, f2):
    lo, hi = sorted((f1, f2))
    a, b = kv_window(gamma, N, lo), kv_window(gamma, N, hi)
    assert 1 <= a <= b <= N


def test_f_one_and_N_one():
    assert kv_window(0.7, 12345, 1.0) == 12345
    assert kv_window(2.0, 1, 0.3) == 1


def test_uniform_gamma_zero_is_exact_ceil():
    # γ = 0: all weights are 1, so D_f = ceil(f·N) with f the exact binary value of the float
    # (0.9 is 0.9000000000000000222…, so D_0.9(0, 1000) = 901, not 900).
    for N, f in [(1000, 0.9), (999, 0.37), (10**6, 0.123456), (1000, 0.5), (4096, 0.75)]:
        assert kv_window(0.0, N, f) == math.ceil(Fraction(f) * N)
    assert kv_window(0.0, 1000, 0.9) == 901


def test_continuous_across_gamma_one():
    N = 2_000_000
    vals = {kv_window(g, N, 0.9) for g in (1 - 1e-12, 1.0, 1 + 1e-12)}
    assert len(vals) == 1


def test_large_N_fast_path_consistent_with_small_prefix():
    # For γ = 2, D_0.5 is tiny and independent of N once N is huge.
    assert kv_window(2.0, 10**12, 0.5) == kv_window(2.0, 10**9, 0.5) == brute_kv_window(2.0, 10**5, 0.5)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.9, 1.3, 2.0, 3.0])
@pytest.mark.parametrize("D", [1, 2, 31, 32, 33, 100, 12345, 10**6])
def test_harmonic_vs_brute_force(gamma, D):
    brute = math.fsum((np.arange(1, D + 1, dtype=np.float64) ** (-gamma)).tolist())
    assert harmonic(D, gamma) == pytest.approx(brute, rel=1e-13)


@pytest.mark.parametrize("gamma", [1.3, 2.0, 3.0])
@pytest.mark.parametrize("D", [1, 33, 12345, 10**9])
def test_harmonic_vs_hurwitz_zeta(gamma, D):
    # Oracle: H(D, γ) = ζ(γ) − ζ(γ, D+1) (scipy's Hurwitz zeta is defined for γ > 1 only).
    assert harmonic(D, gamma) == pytest.approx(float(zeta(gamma) - zeta(gamma, D + 1)), rel=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.9, 0.999])
@pytest.mark.parametrize("D", [1, 33, 12345, 10**9])
def test_harmonic_below_one_vs_analytic_continuation(gamma, D):
    # For γ < 1, ζ(γ) − ζ(γ, D+1) still equals H(D, γ) by analytic continuation (ζ(γ) < 0 there).
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    ref = mpmath.zeta(gamma) - mpmath.zeta(gamma, D + 1)
    assert harmonic(D, gamma) == pytest.approx(float(ref), rel=1e-13)


@pytest.mark.parametrize("D", [1, 10, 33, 1000, 10**6, 10**9])
def test_harmonic_at_one_vs_digamma(D):
    # Oracle 2: H(D, 1) = ψ(D+1) + γ_E.
    assert harmonic(D, 1.0) == pytest.approx(float(digamma(D + 1) + np.euler_gamma), rel=1e-13)


def test_harmonic_zero_terms():
    assert harmonic(0, 1.3) == 0.0


@pytest.mark.parametrize("kwargs,field", [
    ({"gamma": float("nan"), "N": 10, "f": 0.9}, "gamma"),
    ({"gamma": -5.0, "N": 10, "f": 0.9}, "gamma"),
    ({"gamma": 1.0, "N": 0, "f": 0.9}, "N"),
    ({"gamma": 1.0, "N": 10.5, "f": 0.9}, "N"),
    ({"gamma": 1.0, "N": True, "f": 0.9}, "N"),
    ({"gamma": 1.0, "N": 10, "f": 0.0}, "f"),
    ({"gamma": 1.0, "N": 10, "f": 1.5}, "f"),
    ({"gamma": "0.7", "N": 10, "f": 0.9}, "gamma"),
])
def test_domain_errors(kwargs, field):
    with pytest.raises(DomainError) as exc:
        kv_window(**kwargs)
    assert exc.value.field == field
    assert exc.value.value is kwargs[field] or exc.value.value == kwargs[field] or field == "gamma"
