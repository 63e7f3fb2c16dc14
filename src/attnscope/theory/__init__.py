"""Closed-form TAF theory: pure Python/``math`` (no torch, no numpy, no scipy at import).

Public API (formulas and sources: docs/theory.md):

- :func:`gamma_pade`, :func:`theta_design` — Padé γ(θ, T) and its exact inverse.
- :func:`d_horizon`, :func:`l_niah`, :func:`susceptibility`, :func:`critical_exponents`.
- :func:`ntk_alpha`, :func:`ntk_scaling`, :func:`ntk_aware_alpha` — RoPE base scaling.
- :func:`regime` — the one regime classification.
- :func:`kv_window` (D_f, exact, O(log N)), :func:`harmonic` (H(D, γ)).
- :func:`thermo` → :class:`Thermo` (Z, U, S, F, C_V exact, continuous at γ = 1), :func:`free_energy`.
- :func:`gamma_random_pred`, :func:`imprint` — learned imprint ν = −1/(2π).
- :func:`K_invariant`, :func:`k_invariant_check` — K = γ·ln(N²·D).
- :func:`ih_phase_check`, :func:`expected_ih_phase` — induction-head sign test.
- :func:`gamma_decompose` — γ decomposition with per-axis status.
- :func:`layer_prediction`, :func:`layer_type_predictions` — per-layer-type predictions.
- :mod:`attnscope.theory.constants` — every empirical constant with n, source, status.

All functions raise :class:`attnscope.errors.DomainError` (field, value) outside their domain.
"""
from __future__ import annotations

from attnscope.theory.constants import REGISTRY as CONSTANTS
from attnscope.theory.constants import Constant, get_constant
from attnscope.theory.decomposition import Decomposition, Term, gamma_decompose
from attnscope.theory.horizon import CriticalExponents, critical_exponents, d_horizon, l_niah, susceptibility
from attnscope.theory.imprint import Imprint, gamma_random_pred, imprint
from attnscope.theory.induction import IHPhase, expected_ih_phase, ih_phase_check
from attnscope.theory.invariant import K_invariant, KInvariant, k_invariant_check
from attnscope.theory.kv_window import harmonic, kv_window
from attnscope.theory.layer import LayerPrediction, layer_prediction, layer_type_predictions
from attnscope.theory.ntk import NTKScaling, ntk_alpha, ntk_aware_alpha, ntk_scaling
from attnscope.theory.pade import gamma_pade, theta_design
from attnscope.theory.regime import REGIME_NAMES, Regime, regime
from attnscope.theory.thermo import Thermo, free_energy, thermo

__all__ = [
    "CONSTANTS", "Constant", "get_constant",
    "gamma_pade", "theta_design",
    "d_horizon", "l_niah", "susceptibility", "critical_exponents", "CriticalExponents",
    "ntk_alpha", "ntk_scaling", "ntk_aware_alpha", "NTKScaling",
    "regime", "Regime", "REGIME_NAMES",
    "kv_window", "harmonic",
    "thermo", "Thermo", "free_energy",
    "gamma_random_pred", "imprint", "Imprint",
    "K_invariant", "k_invariant_check", "KInvariant",
    "ih_phase_check", "expected_ih_phase", "IHPhase",
    "gamma_decompose", "Decomposition", "Term",
    "layer_prediction", "layer_type_predictions", "LayerPrediction",
]
