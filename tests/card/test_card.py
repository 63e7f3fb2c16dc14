"""The TAF card: JSON shape, per-layer-type predictions, and nulls with reasons."""
import json
import math

import pytest

from attnscope.card import PREDICTION_FIELDS, card
from attnscope.errors import DomainError


def _pade(theta, T):
    return (2 * theta - math.sqrt(2) * T) / (2 * theta + math.sqrt(2) * T)


def test_card_json_shape_pythia():
    c = card("pythia-70m")
    d = json.loads(json.dumps(c.model_dump(mode="json"), allow_nan=False))
    assert {"model", "arch", "predictions", "recipes"} <= set(d)
    for k in ("family", "position_encoding", "rope_theta", "layer_rope_theta", "layer_window", "T_train",
              "n_params_M", "rotary_dim", "warnings"):
        assert k in d["arch"]
    p = d["predictions"]
    for k in PREDICTION_FIELDS + ("T_used", "T_source", "per_layer_type", "constants", "null_reasons"):
        assert k in p
    assert set(p["thermo"]) == {"Z", "U", "S", "F", "C_V"}
    assert p["T_used"] == 2048 and p["T_source"] == "T_train"
    assert p["gamma_pade"] == pytest.approx(_pade(10000, 2048))
    # thermodynamics are the exact sums over d = 1..T_used
    g = p["gamma_pade"]
    Z = math.fsum(d ** -g for d in range(1, 2049))
    U = math.fsum(d ** -g * math.log(d) for d in range(1, 2049)) / Z
    assert p["thermo"]["Z"] == pytest.approx(Z, rel=1e-12) and p["thermo"]["U"] == pytest.approx(U, rel=1e-10)
    assert p["thermo"]["S"] == pytest.approx(math.log(Z) + g * U, rel=1e-10)
    assert set(d["recipes"]) == {"X-2", "X-19", "X-21", "X-22", "X-23"}
    assert all("verdict" in r and "reason" in r for r in d["recipes"].values())
    assert all({"name", "value", "n", "source", "status"} <= set(k) for k in p["constants"])


def test_context_changes_T_and_is_said():
    c = card("pythia-70m", context=4096)
    p = c.predictions
    assert p["T_used"] == 4096 and p["T_source"] == "--context"
    assert p["gamma_pade"] == pytest.approx(_pade(10000, 4096))
    assert p["ntk_alpha"] == pytest.approx(4096 / 2048)
    for bad in (0, -5):
        with pytest.raises(DomainError, match="context"):
            card("pythia-70m", context=bad)


def test_gemma2_per_layer_type(archs):
    a = archs["gemma-2-9b"]
    c = card(a)
    groups = {g["layer_type"]: g for g in c.predictions["per_layer_type"]}
    assert set(groups) == {"sliding_attention", "full_attention"}
    loc, glo = groups["sliding_attention"], groups["full_attention"]
    assert loc["n_layers"] == glo["n_layers"] == 21
    assert loc["window"] == 4096 and loc["T_used"] == 4096 and "sliding window" in loc["T_source"]
    assert glo["window"] is None and glo["T_used"] == 8192
    assert loc["gamma_pade"] == pytest.approx(_pade(1e4, 4096))
    assert glo["gamma_pade"] == pytest.approx(_pade(1e4, 8192))
    # the headline predictions are the global (full-attention) layers'
    assert c.predictions["primary_layer_type"] == "full_attention"
    assert c.predictions["gamma_pade"] == glo["gamma_pade"]
    # a long context moves the global layers only; the local ones stay capped at their window
    c2 = card(a, context=32768)
    g2 = {g["layer_type"]: g for g in c2.predictions["per_layer_type"]}
    assert g2["sliding_attention"]["gamma_pade"] == loc["gamma_pade"]
    assert g2["full_attention"]["gamma_pade"] == pytest.approx(_pade(1e4, 32768))


def test_gemma3_local_and_global_theta(archs):
    c = card(archs["gemma-3-1b"])
    groups = {g["layer_type"]: g for g in c.predictions["per_layer_type"]}
    assert groups["full_attention"]["theta"] == 1e6 and groups["sliding_attention"]["theta"] == 1e4
    assert groups["sliding_attention"]["gamma_pade"] == pytest.approx(_pade(1e4, 512))
    assert groups["full_attention"]["gamma_pade"] == pytest.approx(_pade(1e6, 32768))


@pytest.mark.parametrize("name, word", [("bloom-560m", "alibi"), ("gpt2", "absolute"), ("mamba-130m", "attention")])
def test_non_rope_predictions_are_null_with_reasons(archs, name, word):
    c = card(archs[name], context=1024)
    p = c.predictions
    for k in ("gamma_pade", "regime", "d_horizon", "D_f_90", "ntk_alpha", "gamma_random_pred", "K", "thermo"):
        assert p[k] is None, k
        assert word in p["null_reasons"][k], (k, p["null_reasons"][k])
    assert c.recipes["X-2"]["verdict"] == "N/A" and word in c.recipes["X-2"]["reason"]
    json.dumps(c.model_dump(mode="json"), allow_nan=False)


def test_unknown_theta_is_null_never_10000(archs):
    a = archs["llama-3-8b"]
    a = a.model_copy(update={"rope_theta": None, "layer_rope_theta": [None] * a.n_layers})
    p = card(a).predictions
    assert p["gamma_pade"] is None and "rope_theta unknown" in p["null_reasons"]["gamma_pade"]
    assert p["K"] is None and p["thermo"] is None


def test_rope_scaling_theta_is_said(archs):
    ds = card(archs["deepseek-v2-lite"]).predictions  # YaRN: no single equivalent θ
    assert ds["theta_used"] == 10000 and "unscaled" in ds["theta_source"]
    assert ds["T_used"] == 4096  # T_train is the pre-scaling context
    assert any("yarn" in w for w in card(archs["deepseek-v2-lite"]).warnings)
    lin = archs["llama-3-8b"].model_copy(update={"rope_scaling": {"type": "linear", "factor": 4.0,
                                                                  "original_max_position_embeddings": 8192}})
    p = card(lin, context=32768).predictions
    assert p["theta_used"] == 4 * 500000.0 and p["gamma_pade"] == pytest.approx(_pade(500000.0, 8192))
