"""Horizon, critical exponents, NTK scaling, imprint, K invariant, IH test, regime, decomposition, layers."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnscope.errors import DomainError
from attnscope.theory import (
    REGIME_NAMES,
    K_invariant,
    constants,
    critical_exponents,
    d_horizon,
    expected_ih_phase,
    gamma_decompose,
    gamma_pade,
    gamma_random_pred,
    ih_phase_check,
    imprint,
    k_invariant_check,
    kv_window,
    l_niah,
    layer_prediction,
    layer_type_predictions,
    ntk_alpha,
    ntk_aware_alpha,
    ntk_scaling,
    regime,
    susceptibility,
    theta_design,
    thermo,
)


# --- horizon --------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(theta=st.floats(10.0, 1e8), T=st.floats(1.0, 1e7))
def test_horizon_of_pade_is_T(theta, T):
    g = gamma_pade(theta, T)
    if 0.0 < g < 1.0 and 1.0 - g > 1e-9:
        assert d_horizon(theta, g) == pytest.approx(T, rel=1e-6)


def test_horizon_formula_and_domain():
    assert d_horizon(1e4, 0.5) == pytest.approx(math.sqrt(2) * 1e4 * 0.5 / 1.5)
    assert l_niah(1e4, 0.5) == pytest.approx(2 * d_horizon(1e4, 0.5))
    for g in (0.0, 1.0, -0.3, 1.2):
        with pytest.raises(DomainError) as exc:
            d_horizon(1e4, g)
        assert exc.value.field == "gamma"
    with pytest.raises(DomainError):
        d_horizon(0.0, 0.5)
    assert susceptibility(0.75) == pytest.approx(4.0)
    with pytest.raises(DomainError):
        susceptibility(1.0)


@settings(max_examples=100, deadline=None)
@given(g=st.floats(-5.0, 0.999))
def test_critical_exponents_identities(g):
    c = critical_exponents(g)
    assert c.rushbrooke == pytest.approx(2.0, abs=1e-9 * (1 + abs(c.nu)))
    assert c.beta * c.nu == pytest.approx(-1.0)
    assert c.alpha + c.nu == pytest.approx(2.0, abs=1e-9 * (1 + abs(c.nu)))
    assert c.gamma_susc >= 2 * math.sqrt(2) - 1e-9  # AM–GM bound
    assert c.eta == pytest.approx(g - 1)


def test_critical_exponents_minimum_and_domain():
    g_min = 1 - 1 / math.sqrt(2)
    assert critical_exponents(g_min).gamma_susc == pytest.approx(2 * math.sqrt(2))
    with pytest.raises(DomainError):
        critical_exponents(1.0)


# --- NTK ------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(theta=st.floats(100.0, 1e7), T_train=st.integers(64, 200_000), T_target=st.integers(64, 2_000_000))
def test_ntk_preserves_training_gamma(theta, T_train, T_target):
    s = ntk_scaling(theta, T_target, T_train=T_train)
    assert s.alpha == pytest.approx(T_target / T_train)
    assert gamma_pade(s.theta_new, T_target) == pytest.approx(gamma_pade(theta, T_train), abs=1e-12)
    assert s.mode == "preserve_train_gamma"
    assert float(s) == s.alpha == ntk_alpha(theta, T_target, T_train=T_train)


def test_ntk_target_gamma_is_published_alpha_opt():
    theta, T = 500_000.0, 32_768
    s = ntk_scaling(theta, T, gamma_target=0.85)
    assert s.alpha == pytest.approx(theta_design(0.85, T) / theta)
    assert s.gamma_target == pytest.approx(0.85)
    assert s.zero_shot_plausible == (s.alpha <= constants.NTK_ZERO_SHOT_MAX_ALPHA.value)


def test_ntk_requires_exactly_one_mode():
    with pytest.raises(DomainError):
        ntk_alpha(1e4, 8192)
    with pytest.raises(DomainError):
        ntk_alpha(1e4, 8192, T_train=2048, gamma_target=0.8)
    with pytest.raises(DomainError) as exc:
        ntk_alpha(1e4, 8192, T_train=0)
    assert exc.value.field == "T_train"


def test_ntk_aware_community_rule():
    assert ntk_aware_alpha(4.0, 128) == pytest.approx(4.0 ** (128 / 126))
    assert ntk_aware_alpha(4.0, 128) > 4.0
    with pytest.raises(DomainError):
        ntk_aware_alpha(4.0, 127)


# --- imprint, K, IH -------------------------------------------------------------------
def test_imprint_formula():
    nu = -1 / (2 * math.pi)
    assert constants.NU_IMPRINT.value == nu
    assert gamma_random_pred(0.7, 14e6) == pytest.approx(0.7)
    assert gamma_random_pred(0.7, 1.4e9) == pytest.approx(0.7 + 2 * nu)
    r = imprint(0.7, 1.4e9, gamma_random_obs=0.7 + 2 * nu - 0.5)
    assert r.purity == "over-imprinted" and r.residual == pytest.approx(-0.5)
    assert imprint(0.7, 1.4e9, gamma_random_obs=0.4).purity == "clean"
    assert {c.name for c in r.constants} == {"NU_IMPRINT", "P0_IMPRINT", "IMPRINT_CI95"}
    with pytest.raises(DomainError) as exc:
        gamma_random_pred(0.7, 0)
    assert exc.value.field == "n_params"


def test_K_invariant():
    N = 7e7
    assert K_invariant(0.75, N) == pytest.approx(0.75 * math.log(N * N * 20 * N))
    assert K_invariant(0.75, N, D_tokens=3e11) == pytest.approx(0.75 * math.log(N * N * 3e11))
    chk = k_invariant_check(0.75, N)
    assert chk.D_assumed and chk.z == pytest.approx((chk.K - 51.2) / 16.8)
    assert chk.in_band == (abs(chk.z) <= 1)
    assert "CHINCHILLA_TOKENS_PER_PARAM" in {c.name for c in chk.constants}
    assert not k_invariant_check(0.75, N, D_tokens=3e11).D_assumed
    with pytest.raises(DomainError):
        K_invariant(0.75, -1)


def test_ih_phase():
    assert expected_ih_phase(4e8) == "post-IH" and expected_ih_phase(3.99e8) == "pre-IH"
    r = ih_phase_check(0.9, 0.8, n_params=1e9)
    assert r.phase_observed == "post-IH" and r.consistent is True
    assert r.delta_gamma == pytest.approx(0.1)
    r = ih_phase_check(0.7, 0.8, n_params=1e9)
    assert r.phase_observed == "pre-IH" and r.consistent is False
    r = ih_phase_check(0.9, 0.8, n_params=1e9, delta_ci=(-0.05, 0.25))
    assert r.phase_observed == "ambiguous" and r.consistent is None
    assert ih_phase_check(0.9, 0.8).phase_expected is None
    with pytest.raises(DomainError):
        ih_phase_check(0.9, 0.8, delta_ci=(0.3, 0.1))


# --- regime ---------------------------------------------------------------------------
@pytest.mark.parametrize("g,name", [
    (-0.5, "non_decaying"), (0.0, "non_decaying"), (1e-9, "phase_A"), (0.748, "phase_A"),
    (0.9499, "phase_A"), (0.95, "hagedorn_boundary"), (0.999, "hagedorn_boundary"), (1.0, "phase_B"),
    (1.5, "phase_B"),
])
def test_regime_boundaries(g, name):
    r = regime(g)
    assert r.name == name and str(r) == name and name in REGIME_NAMES
    assert r.long_range == (0 < g < 1)
    assert r.constants[0].name == "HAGEDORN_WARNING_GAMMA"


@settings(max_examples=200, deadline=None)
@given(g=st.floats(-3, 3))
def test_regime_intervals_contain_gamma(g):
    r = regime(g)
    assert r.lower is None or g >= r.lower
    assert r.upper is None or g <= r.upper


def test_regime_domain():
    with pytest.raises(DomainError):
        regime(float("nan"))


# --- decomposition ---------------------------------------------------------------------
def test_decomposition_statuses():
    d = gamma_decompose(0.7, has_gqa=True, has_swa=True, n_params=8e9, is_instruct=True)
    by = {t.axis: t for t in d.terms}
    assert d.gamma_validated == pytest.approx(0.7 + 0.11)           # GQA only
    assert d.gamma_with_exploratory == pytest.approx(0.7 + 0.11 - 0.15 - 0.10)
    assert by["swa"].status == "disabled" and not by["swa"].included_in_exploratory
    assert by["imprint"].applies is False
    assert any("swa" in w for w in d.warnings)
    r = gamma_decompose(0.7, has_gqa=False, has_swa=False, n_params=1.4e9, is_instruct=False, corpus="random")
    assert r.gamma_validated == pytest.approx(gamma_random_pred(0.7, 1.4e9))
    for t in r.terms:
        assert t.constant.status == t.status
    with pytest.raises(DomainError):
        gamma_decompose(0.7, has_gqa=1, has_swa=False, n_params=1e8, is_instruct=False)
    with pytest.raises(DomainError):
        gamma_decompose(0.7, has_gqa=True, has_swa=False, n_params=1e8, is_instruct=False, corpus="code")


# --- per-layer-type ---------------------------------------------------------------------
def test_layer_type_predictions_groups_and_windows():
    # Gemma-2-like: alternating local (window 4096) and global layers, same θ.
    thetas = [10_000.0] * 4
    windows = [4096, None, 4096, None]
    out = layer_type_predictions(thetas, windows, 8192)
    assert [idx for idx, _ in out] == [(0, 2), (1, 3)]
    local, glob = out[0][1], out[1][1]
    assert local.T_used == 4096 and glob.T_used == 8192 and local.notes
    assert local.gamma_pade == pytest.approx(gamma_pade(1e4, 4096))
    assert glob.D_f == kv_window(glob.gamma_pade, 8192, 0.9)
    assert glob.thermo == thermo(glob.gamma_pade, 8192)
    assert glob.d_horizon == pytest.approx(8192, rel=1e-9)


def test_layer_prediction_non_rope_and_negative_gamma():
    p = layer_prediction(None, 1024)
    assert p.gamma_pade is None and p.D_f is None and p.notes
    q = layer_prediction(100.0, 4096)  # T ≫ √2·θ ⇒ γ < 0
    assert q.regime.name == "non_decaying" and q.d_horizon is None
    assert any("d_horizon" in n for n in q.notes)
    assert q.D_f is not None and q.to_dict()["regime"]["name"] == "non_decaying"
    with pytest.raises(DomainError):
        layer_type_predictions([1e4], [None, None], 100)
