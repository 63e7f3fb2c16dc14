"""Thermodynamics of the discrete power law p(d) ∝ d^−γ over d = 1..N, exactly.

TAF §26 / paper §5 (karlesmarin/tafagent ``cli/diagnose_model.py``:
``partition_Z``, ``mean_log_d``, ``entropy_S``, ``free_energy_F``,
``heat_capacity_Cv``). The published code uses continuum integrals
(Z ≈ (N^{1−γ} − 1)/(1 − γ) + 1, switching to ln N + γ_E inside |γ − 1| < 1e−5,
a 5 % jump at γ = 1) and a finite-difference C_V. Here every quantity is the
exact discrete sum, via S_k = Σ_{d=1}^{N} d^−γ (ln d)^k (k = 0, 1, 2) from
:func:`attnscope.theory._sums.power_log_sum` — analytic in γ, so continuous
(and smooth) through γ = 1 with no special case:

    Z   = S_0                         partition function
    U   = ⟨ln d⟩ = S_1 / S_0          energy (inverse temperature γ)
    S   = ln Z + γ·U                  entropy (nats); equals −Σ p ln p
    F   = −ln Z / γ                   free energy (γ ≠ 0), so S = γ(U − F)
    C_V = γ²·Var(ln d) = γ²·(S_2/S_0 − U²)     heat capacity (= γ²·dU/dγ up to sign)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from attnscope.errors import DomainError
from attnscope.theory import _validate as v
from attnscope.theory._sums import power_log_sum
from attnscope.theory.kv_window import _gamma


@dataclass(frozen=True)
class Thermo:
    """Exact thermodynamic potentials of p(d) ∝ d^−γ on d = 1..N.

    Attributes
    ----------
    gamma : float
        Inverse temperature γ (T_attn = 1/γ).
    N : int
        Number of distances.
    Z : float
        Partition function Σ d^−γ (dimensionless).
    U : float
        Mean log-distance ⟨ln d⟩ (nats).
    S : float
        Entropy ln Z + γU (nats).
    F : float or None
        Free energy −ln Z/γ; ``None`` at γ = 0, where it is undefined (±∞).
    C_V : float
        Heat capacity γ²·Var(ln d) (dimensionless, ≥ 0).
    var_log_d : float
        Var(ln d) (nats²).
    method : str
        How the sums were computed.
    notes : tuple of str
        Caveats (e.g. why F is None).
    """

    gamma: float
    N: int
    Z: float
    U: float
    S: float
    F: float | None
    C_V: float
    var_log_d: float
    method: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


METHOD = "exact: first 32 terms summed + Euler-Maclaurin (6 Bernoulli terms), analytic in gamma"


def thermo(gamma: float, N: int) -> Thermo:
    """Exact Z, U, S, F, C_V of the power law d^−γ over d = 1..N.

    Parameters
    ----------
    gamma : float
        Decay exponent / inverse temperature (finite, ≥ −4). γ = 0 is allowed;
        F is then ``None`` (see :func:`free_energy`).
    N : int
        Number of distances, ≥ 1.

    Returns
    -------
    Thermo

    Raises
    ------
    DomainError
        If γ or N is outside its domain.
    """
    g = _gamma(gamma)
    n = v.integer_ge("N", N, 1)
    s0 = power_log_sum(g, 0, 1, n)
    s1 = power_log_sum(g, 1, 1, n)
    s2 = power_log_sum(g, 2, 1, n)
    U = s1 / s0
    var = max(s2 / s0 - U * U, 0.0)
    lnZ = math.log(s0)
    notes: list[str] = []
    if g == 0.0:
        F = None
        notes.append("F = -ln Z / gamma is undefined at gamma = 0 (it diverges to -inf as gamma -> 0+).")
    else:
        F = -lnZ / g
    return Thermo(gamma=g, N=n, Z=s0, U=U, S=lnZ + g * U, F=F, C_V=g * g * var, var_log_d=var,
                  method=METHOD, notes=tuple(notes))


def free_energy(gamma: float, N: int) -> float:
    """F = −ln Z/γ; raises :class:`DomainError` at γ = 0 where it is undefined."""
    g = _gamma(gamma)
    if g == 0.0:
        raise DomainError("free energy -ln Z / gamma is undefined at gamma = 0", field="gamma", value=gamma)
    return thermo(g, N).F  # type: ignore[return-value]
