"""Training is a pure function of (config, seed, thread count): two runs give identical weights."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from attnscope.errors import DomainError
from attnscope.training.train import TrainConfig, train_tiny

TINY = dict(context=16, d_model=16, layers=1, heads=2, kv_heads=1, intermediate=32, steps=3,
            batch=2, vocab=260, eval_every=0, val_windows=2, warmup=1, save_dtype="float32")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("det")
    cfg = TrainConfig(theta=500.0, seed=3, **TINY)
    a = train_tiny(cfg, root / "a", log=lambda _m: None)
    b = train_tiny(cfg, root / "b", log=lambda _m: None)
    c = train_tiny(TrainConfig(theta=500.0, seed=4, **TINY), root / "c", log=lambda _m: None)
    return a, b, c


def test_same_seed_same_weights(two_runs):
    a, b, _ = two_runs
    wa, wb = load_file(a.out / "model.safetensors"), load_file(b.out / "model.safetensors")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    assert a.card["val_loss_nats"] == b.card["val_loss_nats"]
    assert (a.out / "tokenizer.json").read_bytes() == (b.out / "tokenizer.json").read_bytes()


def test_other_seed_other_weights(two_runs):
    a, _, c = two_runs
    wa, wc = load_file(a.out / "model.safetensors"), load_file(c.out / "model.safetensors")
    assert any(not torch.equal(wa[k], wc[k]) for k in wa)


def test_theta_is_in_config_and_card(two_runs):
    a, _, _ = two_runs
    config = json.loads((a.out / "config.json").read_text())
    assert config["rope_parameters"] == {"rope_type": "default", "rope_theta": 500.0}
    assert config["max_position_embeddings"] == 16
    card = json.loads((a.out / "card.json").read_text())
    assert card["theta"] == 500.0 and card["seed"] == 3 and card["steps"] == 3
    assert card["params"] == sum(t.numel() for t in load_file(a.out / "model.safetensors").values())


@pytest.mark.parametrize("field,value", [("theta", 0.0), ("theta", -1.0), ("context", 0),
                                         ("steps", 0), ("steps", -5), ("kv_heads", 3)])
def test_bad_config_raises(field, value):
    with pytest.raises(DomainError, match=field.replace("_", "-")):
        TrainConfig(**{**TINY, field: value}).validate()
