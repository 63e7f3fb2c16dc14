"""A family whose attention bypasses the probe backend is measured through eager rows, and says so."""
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def test_gpt_neo_is_measured_with_a_fallback_warning():
    from attnscope.measure import measure_model

    torch.manual_seed(0)
    cfg = transformers.GPTNeoConfig(hidden_size=32, num_layers=2, num_heads=4, attention_types=[[["global"], 2]],
                                    vocab_size=200, max_position_embeddings=128, intermediate_size=64)
    model = transformers.AutoModelForCausalLM.from_config(cfg).eval()
    with pytest.warns(UserWarning, match="gpt_neo.*eager"):
        rec = measure_model(model, None, model_id="tiny-gpt-neo", corpus="random", T=96, distances=[10, 30, 50],
                            prompts=3, seeds=[0], queries=8, n_boot=50)
    m = rec.measurement
    assert m.gamma is not None and m.gamma_ci95_lo <= m.gamma <= m.gamma_ci95_hi
    assert any("gpt_neo" in w and "eager" in w for w in rec.warnings), rec.warnings
