"""γ_Padé and θ_design: exact inverses, published anchor points, domain errors."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnscope.errors import DomainError
from attnscope.theory import gamma_pade, theta_design

THETAS = st.floats(1.0, 1e9)
TS = st.floats(1.0, 1e7)


@settings(max_examples=300, deadline=None)
@given(theta=THETAS, T=TS)
def test_theta_design_after_gamma_pade_is_identity(theta, T):
    g = gamma_pade(theta, T)
    assert -1.0 < g < 1.0
    # Conditioning: 1 − γ ≈ √2·T/θ loses log10(θ/T) digits when θ ≫ T.
    cond = 1.0 + theta / T + T / theta
    assert theta_design(g, T) == pytest.approx(theta, rel=4e-16 * cond + 1e-15)


@settings(max_examples=300, deadline=None)
@given(gamma=st.floats(-0.999999, 0.999999), T=TS)
def test_gamma_pade_after_theta_design_is_identity(gamma, T):
    assert gamma_pade(theta_design(gamma, T), T) == pytest.approx(gamma, abs=1e-14)


def test_formula_and_anchor_points():
    theta, T = 10_000.0, 2048.0
    assert gamma_pade(theta, T) == pytest.approx((2 * theta - math.sqrt(2) * T) / (2 * theta + math.sqrt(2) * T),
                                                  rel=1e-15)
    assert gamma_pade(theta, theta * math.sqrt(2)) == pytest.approx(0.0, abs=1e-15)  # T = √2·θ ⇒ γ = 0
    assert gamma_pade(theta, theta / math.sqrt(2)) == pytest.approx(1 / 3, rel=1e-14)  # T = θ/√2 ⇒ γ = 1/3
    assert gamma_pade(theta, 4 * theta * math.sqrt(2)) < 0


@settings(max_examples=100, deadline=None)
@given(theta=THETAS, T=TS, k=st.floats(0.01, 100.0))
def test_depends_on_ratio_only_and_monotone(theta, T, k):
    assert gamma_pade(k * theta, k * T) == pytest.approx(gamma_pade(theta, T), abs=1e-14)
    assert gamma_pade(theta * 2, T) >= gamma_pade(theta, T)


@pytest.mark.parametrize("fn,args,field", [
    (gamma_pade, (0.0, 10), "theta"), (gamma_pade, (-1.0, 10), "theta"), (gamma_pade, (1e4, 0), "T"),
    (gamma_pade, (1e4, -5), "T"), (gamma_pade, (float("nan"), 5), "theta"), (gamma_pade, (1e4, True), "T"),
    (theta_design, (1.0, 100), "gamma"), (theta_design, (-1.0, 100), "gamma"), (theta_design, (1.5, 100), "gamma"),
    (theta_design, (0.5, 0), "T"), (theta_design, (float("inf"), 10), "gamma"),
])
def test_domain_errors(fn, args, field):
    with pytest.raises(DomainError) as exc:
        fn(*args)
    assert exc.value.field == field
    assert field in str(exc.value)
