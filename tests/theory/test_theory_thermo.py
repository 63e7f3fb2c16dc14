"""Exact thermodynamics vs brute force; continuity at γ = 1; identities; domain."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnscope.errors import DomainError
from attnscope.theory import Thermo, free_energy, thermo

from _brute import brute_thermo

REL = 1e-10


def _close(a, b, rel=REL, abs_=1e-300):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@settings(max_examples=120, deadline=None)
@given(gamma=st.floats(0.0, 3.0), N=st.integers(1, 200_000))
def test_equals_brute_force(gamma, N):
    t = thermo(gamma, N)
    b = brute_thermo(gamma, N)
    assert isinstance(t, Thermo)
    assert _close(t.Z, b["Z"])
    assert _close(t.U, b["U"], abs_=1e-14)
    assert _close(t.S, b["S"], abs_=1e-14)
    # C_V is a variance: compare relative to the scale of E[(ln d)^2] (cancellation-free bound).
    assert abs(t.C_V - b["C_V"]) <= REL * gamma * gamma * (b["var"] + b["U"] ** 2) + 1e-15
    if gamma == 0.0:
        assert t.F is None
    else:
        assert _close(t.F, b["F"], abs_=1e-14)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.748, 1.0, 1.5, 3.0])
def test_equals_brute_force_at_1e6(gamma):
    t = thermo(gamma, 10**6)
    b = brute_thermo(gamma, 10**6)
    for k in ("Z", "U", "S", "C_V"):
        assert _close(getattr(t, k), b[k], rel=REL), k


@pytest.mark.parametrize("N", [2, 33, 2000, 10**5, 10**7])
def test_continuous_at_gamma_one(N):
    at = thermo(1.0, N)
    for g in (1 - 1e-9, 1 + 1e-9):
        near = thermo(g, N)
        for k in ("Z", "U", "S", "F", "C_V"):
            a, b = getattr(near, k), getattr(at, k)
            assert abs(a - b) <= 1e-8 * max(1.0, abs(b)), (k, g, a, b)


@pytest.mark.parametrize("N", [2, 2000, 10**7, 10**12])
@pytest.mark.parametrize("h", [1e-9, 1e-6, 1e-3])
def test_smooth_at_gamma_one(N, h):
    # Analytic in γ: the value at 1 is the midpoint of 1 ± h up to O(h²) (no kink, no jump),
    # for every N (at N = 10^12 the slope dZ/dγ = −Z·U is large, so compare second differences).
    lo, at, hi = thermo(1 - h, N), thermo(1.0, N), thermo(1 + h, N)
    for k in ("Z", "U", "S", "F", "C_V"):
        a, b, c = getattr(lo, k), getattr(at, k), getattr(hi, k)
        scale = max(1.0, abs(b)) * (1.0 + math.log(N)) ** 4
        assert abs((a + c) / 2 - b) <= 1e-12 * scale + h * h * scale, (k, a, b, c)


def test_published_continuum_jump_is_gone():
    # The published continuum Z jumps ~5 % across |γ−1| = 1e−5; the exact Z moves by ~1e−5·U relative.
    N = 10_000
    zs = [thermo(g, N).Z for g in (1 - 2e-5, 1.0, 1 + 2e-5)]
    assert max(zs) / min(zs) - 1 < 1e-3


@settings(max_examples=60, deadline=None)
@given(gamma=st.floats(0.01, 3.0), N=st.integers(2, 50_000))
def test_identities(gamma, N):
    t = thermo(gamma, N)
    b = brute_thermo(gamma, N)
    assert _close(t.S, gamma * (t.U - t.F), rel=1e-12, abs_=1e-12)  # S = γ(U − F)
    assert _close(t.S, b["S_shannon"], rel=1e-9, abs_=1e-12)           # = −Σ p ln p
    assert 0.0 <= t.U <= math.log(N) + 1e-12
    assert t.C_V >= 0.0


def test_heat_capacity_is_derivative_of_energy():
    # C_V = −γ²·dU/dγ (fluctuation–dissipation), checked by a central difference.
    g, N, h = 0.8, 5000, 1e-5
    dU = (thermo(g + h, N).U - thermo(g - h, N).U) / (2 * h)
    assert thermo(g, N).C_V == pytest.approx(-g * g * dU, rel=1e-6)


def test_gamma_zero_uniform():
    N = 1000
    t = thermo(0.0, N)
    assert t.Z == pytest.approx(N, rel=1e-14)
    assert t.S == pytest.approx(math.log(N), rel=1e-14)
    assert t.C_V == 0.0
    assert t.F is None and t.notes
    with pytest.raises(DomainError) as exc:
        free_energy(0.0, N)
    assert exc.value.field == "gamma"
    assert free_energy(0.5, N) == pytest.approx(thermo(0.5, N).F)


def test_N_one():
    t = thermo(1.7, 1)
    assert (t.Z, t.U, t.S, t.C_V) == (1.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("gamma,N,field", [
    (float("inf"), 10, "gamma"), (-4.5, 10, "gamma"), (1.0, 0, "N"), (1.0, 2.5, "N"), (None, 10, "gamma"),
])
def test_domain_errors(gamma, N, field):
    with pytest.raises(DomainError) as exc:
        thermo(gamma, N)
    assert exc.value.field == field


def test_to_dict_roundtrip():
    d = thermo(0.9, 100).to_dict()
    assert set(d) >= {"Z", "U", "S", "F", "C_V", "gamma", "N", "method"}
