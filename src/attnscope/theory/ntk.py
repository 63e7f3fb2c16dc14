"""RoPE base scaling ("NTK-aware" θ' = α·θ) for a target context.

Published TAF (karlesmarin/tafagent ``python/taf_browser.py`` §26.3–26.4):

    α_opt(γ*, T_eval, θ) = θ_design(γ*, T_eval) / θ,
    θ_design(γ*, T)      = √2·T·(1 + γ*)/(2·(1 − γ*)),

with γ* = 0.85 hard-coded in recipe X-2's mitigation (constants.NTK_TARGET_GAMMA)
and "fine-tuning required if α_opt > 8" (constants.NTK_ZERO_SHOT_MAX_ALPHA).

attnscope offers two explicit modes (no default target — the caller picks):

* ``T_train=...`` — *preserve the training γ*: α such that
  γ_Padé(α·θ, T_target) = γ_Padé(θ, T_train). Because γ_Padé depends on θ/T only,
  this is exactly α = T_target / T_train (= α_opt with γ* = γ_Padé(θ, T_train)).
* ``gamma_target=...`` — the published α_opt for a chosen γ*.

Difference from the community "NTK-aware" rule (bloc97, 2023), θ' = θ·s^{d/(d−2)}
with s = T_target/T_train and d the rotary dimension: that rule keeps the
lowest frequency's wavelength ratio, so for d = 128 it gives α = s^{1.016}
(slightly larger than TAF's α = s). :func:`ntk_aware_alpha` computes it for comparison.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from attnscope.errors import DomainError
from attnscope.theory import _validate as v
from attnscope.theory.constants import NTK_ZERO_SHOT_MAX_ALPHA, Constant
from attnscope.theory.pade import gamma_pade, theta_design


@dataclass(frozen=True)
class NTKScaling:
    """Result of :func:`ntk_scaling`.

    Attributes
    ----------
    alpha : float
        Base scaling factor α (θ' = α·θ).
    theta : float
        Original RoPE base.
    theta_new : float
        α·θ.
    T_target : float
        Context the new base is designed for (tokens).
    gamma_target : float
        γ_Padé(θ', T_target).
    mode : {"preserve_train_gamma", "target_gamma"}
    formula : str
    zero_shot_plausible : bool
        α ≤ NTK_ZERO_SHOT_MAX_ALPHA (exploratory published heuristic).
    threshold : Constant
    """

    alpha: float
    theta: float
    theta_new: float
    T_target: float
    gamma_target: float
    mode: str
    formula: str
    zero_shot_plausible: bool
    threshold: Constant

    def to_dict(self) -> dict:
        return asdict(self)

    def __float__(self) -> float:
        return float(self.alpha)


def ntk_scaling(theta: float, T_target: float, *, T_train: float | None = None,
                gamma_target: float | None = None) -> NTKScaling:
    """RoPE base scaling for serving context ``T_target``; give exactly one of ``T_train`` / ``gamma_target``.

    Parameters
    ----------
    theta : float
        Current RoPE base (> 0).
    T_target : float
        Target context in tokens (> 0).
    T_train : float, optional
        Training context (> 0): keep γ_Padé at its training value (α = T_target/T_train).
    gamma_target : float, optional
        Desired γ* ∈ (−1, 1): published α_opt = θ_design(γ*, T_target)/θ.

    Raises
    ------
    DomainError
        On bad numbers, or if not exactly one of ``T_train`` / ``gamma_target`` is given.
    """
    th = v.positive("theta", theta)
    tt = v.positive("T_target", T_target)
    if (T_train is None) == (gamma_target is None):
        raise DomainError("give exactly one of T_train (preserve the training gamma) or gamma_target",
                          field="gamma_target", value=gamma_target)
    if T_train is not None:
        tr = v.positive("T_train", T_train)
        alpha = tt / tr
        mode, formula = "preserve_train_gamma", "alpha = T_target / T_train"
    else:
        alpha = theta_design(gamma_target, tt) / th  # validates gamma_target
        mode, formula = "target_gamma", "alpha = theta_design(gamma*, T_target) / theta"
    th_new = alpha * th
    return NTKScaling(alpha=alpha, theta=th, theta_new=th_new, T_target=tt,
                      gamma_target=gamma_pade(th_new, tt), mode=mode, formula=formula,
                      zero_shot_plausible=alpha <= NTK_ZERO_SHOT_MAX_ALPHA.value,
                      threshold=NTK_ZERO_SHOT_MAX_ALPHA)


def ntk_alpha(theta: float, T_target: float, *, T_train: float | None = None,
              gamma_target: float | None = None) -> float:
    """Base scaling factor α only (see :func:`ntk_scaling`)."""
    return ntk_scaling(theta, T_target, T_train=T_train, gamma_target=gamma_target).alpha


def ntk_aware_alpha(scale: float, rotary_dim: int) -> float:
    """Community NTK-aware base factor s^{d/(d−2)} (for comparison only; not the TAF α).

    Parameters
    ----------
    scale : float
        Context extension factor s = T_target / T_train (> 0).
    rotary_dim : int
        Number of rotary dimensions d (even, ≥ 4).
    """
    s = v.positive("scale", scale)
    d = v.integer_ge("rotary_dim", rotary_dim, 4)
    if d % 2:
        raise DomainError("must be even", field="rotary_dim", value=rotary_dim)
    return s ** (d / (d - 2))
