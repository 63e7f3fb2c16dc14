"""measure on live tiny models: the uniform falsifier, planted decay, resume, atomic append, failures."""
import json

import numpy as np
import pytest
import torch

import attnscope.probe
from attnscope.errors import AttnscopeError, ForwardError, ProtocolError
from attnscope.measure.nulls import VERDICT_FASTER, VERDICT_SAME
from attnscope.measure.run import measure_model, measure_model_outcome
from attnscope.records import MeasurementRecord

from measure_fixtures import tiny_llama, zero_queries

FAST = dict(corpus="random", T=128, distances=[10, 20, 30, 50, 100], prompts=3, seeds=[1, 2], n_boot=200)


def test_zeroed_queries_attend_uniformly_rows():
    """Uniform attention: A(d) equals the uniform expectation, excess ~ 0, verdict indistinguishable."""
    model = tiny_llama()
    zero_queries(model)
    rec = measure_model(model, None, model_id="zero-q", per_head=True, **FAST)
    m = rec.measurement
    assert m.curve.A == pytest.approx(m.null.A_uniform, rel=1e-6, abs=0)
    assert m.null.A_uniform == pytest.approx([m.null.A_uniform[0]] * 5, rel=1e-12)  # flat: queries i > d_max
    assert abs(m.null.excess) < 1e-6 and abs(m.null.gamma_uniform) < 1e-9
    assert m.null.verdict == VERDICT_SAME
    assert rec.decision.startswith("indistinguishable")
    assert abs(m.mle.gamma) < 1e-6 and m.mle.gamma_uniform == pytest.approx(0.0, abs=1e-9)
    assert all(abs(u.excess) < 1e-6 for u in m.per_head)
    assert len(m.per_head) == 2 * 4 and len(m.per_layer) == 2
    assert m.sink_mass == pytest.approx(m.null.A_uniform[0], rel=1e-6)  # the sink is one more uniform key


def test_zeroed_queries_taf_e4_reproduce_the_published_artefact():
    """Under taf-e4, uniform attention reads as a 'power law' with gamma = gamma_uniform; the verdict says so."""
    model = tiny_llama()
    zero_queries(model)
    rec = measure_model(model, None, model_id="zero-q", **{**FAST, "protocol": "taf-e4", "distances": [10, 30, 50, 70]})
    m = rec.measurement
    assert m.curve.A == pytest.approx([1 / (d + 50) for d in (10, 30, 50, 70)], rel=1e-6)
    assert m.gamma == pytest.approx(m.null.gamma_uniform, abs=1e-6) and m.gamma > 0.3
    assert m.null.verdict == VERDICT_SAME and m.mle is None
    assert m.T_eval == 120 and m.effective["forward_passes"] == 6 * 4


def _planted_probe(gamma: float):
    """A stand-in probe whose rows decay as d^-gamma, with a prompt-level random tilt."""
    def fake(model, input_ids, query_positions, reducer, **kw):
        T = int(torch.as_tensor(input_ids).shape[-1])
        tilt = float(np.random.default_rng(int(torch.as_tensor(input_ids)[1])).normal(0, 0.05))
        for layer in range(2):
            rows = torch.zeros(1, 4, len(query_positions), T, dtype=torch.float64)
            for k, i in enumerate(query_positions):
                d = torch.arange(i, 0, -1, dtype=torch.float64)  # key j = 0..i-1 -> d = i..1
                rows[0, :, k, :i] = d ** -(gamma + tilt)
                rows[0, :, k, i] = 1.0  # self
                rows[0, :, k, : i + 1] /= rows[0, :, k, : i + 1].sum()
            reducer(layer, rows.float(), torch.zeros(1, 4, len(query_positions)))
    return fake


def test_planted_gamma_recovered_within_ci(monkeypatch):
    monkeypatch.setattr(attnscope.probe, "probe_forward", _planted_probe(0.8))
    rec = measure_model(tiny_llama(), None, model_id="planted", **{**FAST, "prompts": 6})
    m = rec.measurement
    assert m.gamma_ci95_lo <= 0.8 <= m.gamma_ci95_hi and m.gamma_ci95_hi - m.gamma_ci95_lo < 0.2
    assert m.mle.gamma_ci95_lo <= 0.8 <= m.mle.gamma_ci95_hi
    assert m.null.verdict == VERDICT_FASTER and m.null.excess_ci95_lo > 0
    assert m.mle.loglik_ratio_power_minus_geom > 0


def test_resume_appends_nothing_and_repairs_a_truncated_line(tmp_path):
    out = tmp_path / "results.jsonl"
    out.write_text('{"kind": "measurement", "key": "trunc')  # a crash mid-write
    model = tiny_llama()
    first = measure_model_outcome(model, None, model_id="tiny", out=out, **FAST)
    lines = out.read_text().splitlines()
    assert not first.skipped and len(lines) == 1
    rec = MeasurementRecord.model_validate_json(lines[0])
    assert rec.key == first.record.key and rec.measurement.gamma == first.record.measurement.gamma
    second = measure_model_outcome(model, None, model_id="tiny", out=out, **FAST)
    assert second.skipped and out.read_text().splitlines() == lines
    other = measure_model_outcome(model, None, model_id="tiny", out=out, **{**FAST, "seeds": [1, 3]})
    assert not other.skipped and len(out.read_text().splitlines()) == 2 and other.record.key != rec.key


def test_record_provenance_and_predictions():
    rec = measure_model(tiny_llama(), None, model_id="tiny", **FAST)
    p = rec.provenance
    assert p.torch == torch.__version__ and p.device == "cpu" and p.dtype == "float32" and p.wall_s > 0
    assert len(p.config_sha256) == 64 and rec.arch["family"] == "llama"
    from attnscope.theory.pade import gamma_pade

    assert rec.predictions.gamma_pade == pytest.approx(gamma_pade(10000.0, 128))
    assert rec.measurement.seeds == [1, 2] and rec.measurement.n_prompts_per_distance == 6
    json.loads(rec.model_dump_json())  # serialisable, no NaN


def test_nan_in_attention_is_explained():
    model = tiny_llama()
    with torch.no_grad():
        model.model.layers[1].self_attn.k_proj.weight.fill_(float("nan"))
    with pytest.raises(AttnscopeError, match=r"non-finite attention.* layer 1.*NaN/inf.*model 'broken', prompt 0"):
        measure_model(model, None, model_id="broken", **FAST)


def test_non_finite_rows_reaching_the_reducer_are_explained(monkeypatch):
    """Second line of defence: rows with NaN that reach the reducer (fp16 hint included)."""
    def nan_probe(model, input_ids, query_positions, reducer, **kw):
        T = int(torch.as_tensor(input_ids).shape[-1])
        for layer in range(2):
            reducer(layer, torch.full((1, 4, len(query_positions), T), float("nan")), torch.zeros(1, 4, 1))

    monkeypatch.setattr(attnscope.probe, "probe_forward", nan_probe)
    with pytest.raises(ForwardError, match=r"NaN/inf in the attention rows of layers \[0, 1\].*float16 overflows"):
        measure_model(tiny_llama().half(), None, model_id="fp16", **FAST)
    with pytest.raises(ProtocolError, match="loaded in float32"):
        measure_model(tiny_llama(), None, model_id="fp32", **{**FAST, "dtype": "float16"})


def test_failing_forward_aborts_naming_model_and_prompt(monkeypatch):
    calls = []

    def boom(model, input_ids, query_positions, reducer, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("CUDA out of memory (simulated)")
        return _planted_probe(0.5)(model, input_ids, query_positions, reducer)

    monkeypatch.setattr(attnscope.probe, "probe_forward", boom)
    with pytest.raises(ForwardError, match=r"model 'tiny', prompt 1 .*RuntimeError: CUDA out of memory"):
        measure_model(tiny_llama(), None, model_id="tiny", **FAST)
    assert len(calls) == 2  # aborted at once, no skipping


def test_sliding_window_null_applies_the_window():
    """Uniform attention inside a 64-token window: A(d) = 1/64 below the window, 0 beyond; the null matches."""
    from transformers import AutoModelForCausalLM, MistralConfig

    from measure_fixtures import TINY

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(MistralConfig(**{**TINY, "sliding_window": 64})).eval()
    zero_queries(model)
    rec = measure_model(model, None, model_id="mistral-w64", **{**FAST, "distances": [10, 30, 50, 63, 64, 100]})
    m = rec.measurement
    assert m.curve.A == pytest.approx([1 / 64] * 4 + [0.0, 0.0], abs=1e-9)
    assert m.null.A_uniform == pytest.approx(m.curve.A, abs=1e-9)
    assert m.null.verdict == VERDICT_SAME and m.mle is None
    assert any("sliding-window" in w for w in rec.warnings) and any("no MLE fit" in w for w in rec.warnings)
