"""Real trained weights (the shipped tiny model): decay beyond the null; its random init is ~uniform."""
import pytest

from attnscope.measure.nulls import VERDICT_FASTER
from attnscope.training import list_bundled_models

MODEL = "tiny-main"
pytestmark = pytest.mark.skipif(MODEL not in list_bundled_models(), reason=f"{MODEL} is not shipped yet")


def test_trained_model_decays_faster_than_uniform_and_random_init_does_not():
    from attnscope.measure import measure

    kw = dict(prompts=4, seeds=[1, 2], n_boot=200, device="cpu")
    trained = measure(MODEL, **kw)
    m = trained.measurement
    assert m.T_eval == 512 and m.distances == [10, 20, 30, 50, 100, 200]  # defaults from the model's context
    assert m.n_query_positions == 32
    assert m.null.verdict == VERDICT_FASTER and m.null.excess_ci95_lo > 0
    assert m.effective["text_source"] == "stdlib_prose('validation')" and trained.warnings  # defaults listed
    fresh = measure(MODEL, random_init=True, corpus="random", **kw)
    # fresh weights are close to uniform, not exactly (RoPE on random q, k can leave a trace a few
    # thousandths wide); the trained model's excess is two orders of magnitude larger
    assert abs(fresh.measurement.null.excess) < 0.02 < 0.3 < m.null.excess
    assert fresh.key != trained.key
