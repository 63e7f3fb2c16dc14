"""Uniform nulls, verdicts and protocol validation."""
import numpy as np
import pytest

from attnscope.errors import ProtocolError
from attnscope.measure.fits import fit_power_ols_batch
from attnscope.measure.nulls import (VERDICT_FASTER, VERDICT_SAME, VERDICT_SLOWER, uniform_curve_rows,
                                     uniform_curve_taf_e4, verdict)
from attnscope.measure.protocols import TAF_E4_KEY, default_distances, make_plan


def test_rows_null_flat_when_every_query_sees_every_distance():
    q = np.array([201, 230, 255])
    curve = uniform_curve_rows(q, [10, 50, 200])
    assert np.all(curve == curve[0]) and curve[0] == pytest.approx(np.mean(1 / (q + 1)))


def test_rows_null_with_spread_queries_is_computed_not_assumed():
    """Queries below a distance drop out (those with the largest 1/(i+1)): the null falls with d and
    alone fits a sizeable gamma_uniform > 0. This is why the rows protocol samples queries i > d_max."""
    q = np.arange(1, 256)
    d = np.array([10, 20, 30, 50, 100, 200])
    curve = uniform_curve_rows(q, d)
    for k, dd in enumerate(d):
        keep = q[q - dd >= 1]  # key exists and is not the sink
        assert curve[k] == pytest.approx(np.mean(1 / (keep + 1)))
    assert fit_power_ols_batch(d, curve, d_min=30).gamma > 0.3


def test_taf_e4_null():
    assert uniform_curve_taf_e4([10, 100]) == pytest.approx([1 / 60, 1 / 150])


def test_verdicts():
    assert verdict(-0.1, 0.2, 0.0) == VERDICT_SAME
    assert verdict(0.1, 0.2, 0.0) == VERDICT_FASTER
    assert verdict(-0.3, -0.2, 0.0) == VERDICT_SLOWER
    assert verdict(1e-9, 2e-9, 0.0) == VERDICT_SAME  # float32 noise on an exactly flat curve
    with pytest.raises(ProtocolError):
        verdict(None, 0.1, 0.0)


def test_rows_plan_queries_beyond_max_distance_and_one_forward():
    plan = make_plan("rows", T=256, distances=[200, 10, 30, 50], n_queries=32)
    assert plan.distances == (10, 30, 50, 200) and plan.window == (30, 200)
    fws = plan.forwards(0, np.random.default_rng(0))
    assert len(fws) == 1 and fws[0].length == 256
    q = np.array(fws[0].query_positions)
    assert len(q) == 32 and len(set(q)) == 32 and q.min() > 200 and q.max() <= 255


def test_rows_plan_reports_fewer_queries():
    plan = make_plan("rows", T=128, distances=[10, 30, 100], n_queries=32)
    assert any("only 27 query positions" in n for n in plan.notes)
    assert len(plan.forwards(0, np.random.default_rng(0))[0].query_positions) == 27


def test_taf_e4_plan_one_forward_per_distance():
    plan = make_plan("taf-e4", T=300, distances=[10, 30, 50, 200])
    fws = plan.forwards(3, np.random.default_rng(0))
    assert [f.length for f in fws] == [60, 80, 100, 250]
    assert all(f.query_positions == (f.distances[0] + TAF_E4_KEY,) for f in fws)
    assert plan.window is None and plan.T_eval == 250


@pytest.mark.parametrize("kwargs, match", [
    (dict(protocol="rows", T=128, distances=[10, 30, 128]), "distance 128 >= T=128"),
    (dict(protocol="rows", T=128, distances=[10, 30, 127]), "sink"),
    (dict(protocol="taf-e4", T=128, distances=[30, 100]), "d\\+50=150"),
    (dict(protocol="rows", T=128, distances=[10, 20, 40]), "at least 2 distances >= d_min"),
    (dict(protocol="rows", T=128, distances=[30, 30, 40]), "repeat"),
    (dict(protocol="rows", T=128, distances=[0, 30, 40]), ">= 1"),
    (dict(protocol="nope", T=128, distances=[30, 40]), "unknown protocol"),
])
def test_bad_plans(kwargs, match):
    protocol = kwargs.pop("protocol")
    with pytest.raises(ProtocolError, match=match):
        make_plan(protocol, **kwargs)


def test_absolute_positions_cannot_extrapolate():
    with pytest.raises(ProtocolError, match="learned positions"):
        make_plan("rows", T=256, distances=[30, 100], context_length=128, absolute_positions=True)
    plan = make_plan("rows", T=256, distances=[30, 100], context_length=128)
    assert any("extrapolation" in n for n in plan.notes)


def test_default_distances_filtered_with_a_note():
    ds, notes = default_distances("rows", 256)
    assert ds == (10, 20, 30, 50, 100, 200) and "without [500, 1000, 2000]" in notes[0]
    ds, _ = default_distances("rows", 512)
    assert ds[-1] == 200  # 500 would leave only 11 query positions
    ds, notes = default_distances("rows", 2048)
    assert ds[-1] == 2000 and notes == []  # 47 positions beyond d = 2000
    ds, notes = default_distances("taf-e4", 2050)
    assert ds[-1] == 2000 and notes == []
