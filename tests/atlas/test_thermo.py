"""Row thermodynamics from rows and log Z equal direct computation from logits."""
import numpy as np
import pytest

from attnscope.atlas.thermo import row_thermo


def _rows(rng, n=5, T=12, visible=8):
    s = rng.standard_normal((n, T)) * 2
    s[:, visible:] = -np.inf
    lz = np.log(np.exp(s[:, :visible]).sum(-1))
    return s, np.exp(s - lz[:, None]), lz


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 2.0])
def test_matches_direct_formulas(beta):
    s, p, lz = _rows(np.random.default_rng(0))
    t = row_thermo(p, lz, beta=beta)
    sv = s[:, :8]
    w = np.exp(beta * sv)
    Z = w.sum(-1)
    q = w / Z[:, None]
    assert np.allclose(t.F, -np.log(Z))
    assert np.allclose(t.E, -(q * sv).sum(-1))
    assert np.allclose(t.S, -(q * np.log(q)).sum(-1))
    assert np.allclose(t.C, (q * sv**2).sum(-1) - (q * sv).sum(-1) ** 2)
    assert np.allclose(t.eff_keys, np.exp(t.S))


def test_uniform_row_has_log_n_entropy_and_zero_heat_capacity():
    p = np.full((1, 10), 0.1)
    t = row_thermo(p, np.array([np.log(10.0)]))
    assert t.S[0] == pytest.approx(np.log(10)) and t.C[0] == pytest.approx(0, abs=1e-12)
    assert t.eff_keys[0] == pytest.approx(10)
