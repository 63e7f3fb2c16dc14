"""Functional forms for a per-layer trajectory y(L), L = 0, 1, ..., n_layers - 1.

Every smooth form is *separable*: linear in its amplitude parameters given one
shape parameter, y = B(L; s) @ beta. Fits profile the shape parameter s (a grid
then bounded Brent refinement, see :mod:`attnscope.trajectory.fits`) and solve
beta by linear least squares: no local-minimum lottery from starting values.

========================  ==========================  ====================
form                      mean function               mean-fn parameters
========================  ==========================  ====================
``linear``                a + b L                     2 (a, b)
``power``                 a (L + 1)^b                 2 (a, b)
``exponential``           a e^(b L)                   2 (a, b)
``free_power``            a + b L^c  (c > 0)          3 (a, b, c)
``piecewise_exponential`` a1 e^(b1 L) if L < s,       5 (a1, b1, a2, b2, s)
                          a2 e^(b2 L) otherwise
========================  ==========================  ====================

Every fit also estimates the residual standard deviation sigma, which is
counted as one more parameter in AIC/BIC (so linear has k = 3, the piecewise
form k = 6: its split point counts).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

EXP_LIMIT = 50.0  # bound on |exponent| over the layer range: keeps e^(...) and L^c finite


@dataclass(frozen=True)
class Form:
    """A separable smooth form.

    ``basis(x, s)`` returns the design matrix of shape (n, n_linear) for a scalar
    shape parameter ``s`` (None for forms without one), or (G, n, n_linear) for
    an array of G values; ``jacobian(x, theta)`` the
    derivative of the mean function w.r.t. all parameters, shape (n, n_params).
    ``shape_range(x)`` gives the allowed interval of ``s`` and whether to grid it
    on a log scale.
    """

    name: str
    formula: str
    param_names: tuple[str, ...]
    basis: Callable[[np.ndarray, float | None], np.ndarray]
    jacobian: Callable[[np.ndarray, np.ndarray], np.ndarray]
    shape_range: Callable[[np.ndarray], tuple[float, float, bool]] | None
    # parameter vector theta = (*beta, s) is assembled as theta_from(beta, s)
    theta_from: Callable[[np.ndarray, float | None], np.ndarray]

    @property
    def n_params(self) -> int:
        return len(self.param_names)


def _xpow(x: np.ndarray, c: float) -> np.ndarray:
    return np.power(x, c)


def _xlog(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x, dtype=float)
    pos = x > 0
    out[pos] = np.log(x[pos])
    return out


def _sx(s, x):
    """Broadcast a shape parameter (scalar or (G,)) against layers x (n,): shape (..., n)."""
    return np.asarray(s, dtype=float)[..., None] + np.zeros_like(x)


LINEAR = Form(
    "linear", "a + b*L", ("a", "b"),
    basis=lambda x, s: np.column_stack([np.ones_like(x), x]),
    jacobian=lambda x, t: np.column_stack([np.ones_like(x), x]),
    shape_range=None,
    theta_from=lambda beta, s: np.array([beta[0], beta[1]]),
)

POWER = Form(
    "power", "a*(L+1)^b", ("a", "b"),
    basis=lambda x, b: np.power(x + 1.0, _sx(b, x))[..., None],
    jacobian=lambda x, t: np.column_stack([np.power(x + 1.0, t[1]), t[0] * np.power(x + 1.0, t[1]) * np.log(x + 1.0)]),
    shape_range=lambda x: (-(lim := EXP_LIMIT / max(float(np.log(np.max(x) + 1.0)), 1e-9)), lim, False),
    theta_from=lambda beta, b: np.array([beta[0], b]),
)

EXPONENTIAL = Form(
    "exponential", "a*exp(b*L)", ("a", "b"),
    basis=lambda x, b: np.exp(_sx(b, x) * x)[..., None],
    jacobian=lambda x, t: np.column_stack([np.exp(t[1] * x), t[0] * x * np.exp(t[1] * x)]),
    shape_range=lambda x: (-(lim := EXP_LIMIT / max(float(np.max(np.abs(x))), 1e-9)), lim, False),
    theta_from=lambda beta, b: np.array([beta[0], b]),
)

FREE_POWER = Form(
    "free_power", "a + b*L^c (c > 0)", ("a", "b", "c"),
    basis=lambda x, c: np.stack([np.ones_like(_sx(c, x)), _xpow(x, _sx(c, x))], axis=-1),
    jacobian=lambda x, t: np.column_stack([np.ones_like(x), _xpow(x, t[2]), t[1] * _xpow(x, t[2]) * _xlog(x)]),
    shape_range=lambda x: (1e-2, EXP_LIMIT / max(float(np.log(max(np.max(x), 2.0))), 1e-9), True),
    theta_from=lambda beta, c: np.array([beta[0], beta[1], c]),
)

SMOOTH_FORMS: dict[str, Form] = {f.name: f for f in (LINEAR, POWER, EXPONENTIAL, FREE_POWER)}
PIECEWISE = "piecewise_exponential"
PIECEWISE_FORMULA = "a1*exp(b1*L) for L < s; a2*exp(b2*L) for L >= s"
PIECEWISE_PARAMS = ("a1", "b1", "a2", "b2", "s")
ALL_FORMS: tuple[str, ...] = (*SMOOTH_FORMS, PIECEWISE)
N_MEAN_PARAMS: dict[str, int] = {**{k: f.n_params for k, f in SMOOTH_FORMS.items()}, PIECEWISE: len(PIECEWISE_PARAMS)}


def predict(form: str, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Mean function of any form (including the piecewise one) at layers ``x``."""
    x = np.asarray(x, dtype=float)
    if form == PIECEWISE:
        a1, b1, a2, b2, s = theta
        return np.where(x < s, a1 * np.exp(b1 * x), a2 * np.exp(b2 * x))
    t = np.asarray(theta, dtype=float)
    if form == "linear":
        return t[0] + t[1] * x
    if form == "power":
        return t[0] * np.power(x + 1.0, t[1])
    if form == "exponential":
        return t[0] * np.exp(t[1] * x)
    if form == "free_power":
        return t[0] + t[1] * _xpow(x, t[2])
    raise KeyError(form)
