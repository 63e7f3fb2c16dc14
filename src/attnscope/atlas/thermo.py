"""Per-row attention thermodynamics from probe rows and log Z: pure numpy.

With logits s_j and p_j = exp(s_j)/Z at beta = 1 (PROTOCOL.md, "Thermodynamics of a row"):
F = -log Z, <E> = -sum p s, S = -sum p log p, effective keys = exp(S), C = Var_p(s).
The logits are recovered on the visible keys (p > 0) as s = log p + log Z.
For the beta sweep, p_beta is proportional to exp(beta s).
All quantities are in nats.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RowThermo:
    """Arrays of shape rows.shape[:-1] (one value per row)."""

    F: np.ndarray
    E: np.ndarray
    S: np.ndarray
    eff_keys: np.ndarray
    C: np.ndarray


def row_thermo(rows, log_z, *, beta: float = 1.0) -> RowThermo:
    """Thermodynamic quantities of softmax rows at inverse temperature ``beta``.

    Parameters
    ----------
    rows : ndarray of shape (..., T)
        Softmax rows at beta = 1; zeros mark invisible keys.
    log_z : ndarray of shape (...)
        log-partition of each row at beta = 1.
    beta : float
        Inverse temperature; the logits are rescaled s -> beta * s.
    """
    p1 = np.asarray(rows, dtype=np.float64)
    lz = np.asarray(log_z, dtype=np.float64)
    visible = p1 > 0
    s0 = np.where(visible, np.log(np.where(visible, p1, 1.0)) + lz[..., None], 0.0)  # logits, 0 off-support
    bs = np.where(visible, beta * s0, -np.inf)
    m = np.max(bs, axis=-1, keepdims=True)
    w = np.where(visible, np.exp(bs - m), 0.0)
    zb = w.sum(axis=-1, keepdims=True)
    p = w / zb
    log_zb = (np.log(zb) + m)[..., 0]
    mean_s = (p * s0).sum(axis=-1)
    var_s = (p * (s0 - mean_s[..., None]) ** 2).sum(axis=-1)
    logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
    S = -(p * logp).sum(axis=-1)
    return RowThermo(F=-log_zb, E=-mean_s, S=S, eff_keys=np.exp(S), C=var_s)
