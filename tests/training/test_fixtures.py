"""Every shipped tiny model loads offline and reproduces the validation loss in its card."""
from __future__ import annotations

import json

import pytest
import torch

from attnscope.training import MODELS_DIR, bundled_model_dir, list_bundled_models
from attnscope.training.evaluate import evaluate_checkpoint

MODELS = list_bundled_models()
SIZE_BUDGET_BYTES = 12.5e6  # all shipped checkpoints together (package data)


def test_main_model_is_shipped():
    assert "tiny-main" in MODELS
    assert len(MODELS) >= 3


@pytest.mark.parametrize("name", MODELS)
def test_loads_offline_and_val_loss_matches_card(name):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)
    folder = bundled_model_dir(name)
    card = json.loads((folder / "card.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    assert config["rope_parameters"]["rope_theta"] == card["theta"]
    assert config["max_position_embeddings"] == card["context"]

    tok = AutoTokenizer.from_pretrained(str(folder))
    ids = tok("The with statement")["input_ids"]
    assert ids[0] == tok.bos_token_id == 0 and ids.count(0) == 1  # BOS prepended once
    model = AutoModelForCausalLM.from_pretrained(str(folder))
    assert next(model.parameters()).dtype == torch.float32  # default load computes in float32
    assert sum(p.numel() for p in model.parameters()) == card["params"]

    result = evaluate_checkpoint(folder)
    assert result["n_windows"] == card["val_windows"]
    assert result["val_loss_nats"] == pytest.approx(card["val_loss_nats"], rel=1e-3)


@pytest.mark.parametrize("name", MODELS)
def test_learned_beyond_unigram(name):
    card = json.loads((bundled_model_dir(name) / "card.json").read_text())
    # "clearly learned": well below the best context-free predictor on the same tokens
    assert card["val_loss_nats"] < card["unigram_entropy_nats"] - 1.0


def test_total_size_within_budget():
    total = sum(p.stat().st_size for p in MODELS_DIR.rglob("*") if p.is_file())
    assert total < SIZE_BUDGET_BYTES, total


def test_unknown_model_name_is_one_line_error():
    from attnscope.errors import ModelSourceError

    with pytest.raises(ModelSourceError, match="no bundled model"):
        bundled_model_dir("tiny-nonexistent")
