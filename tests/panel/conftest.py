"""Fixtures for the panel tests: two tiny model folders (weights + tokenizer) and a panel writer."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """``<dir>/m0`` and ``<dir>/m1``: 2-layer Llamas (hidden 32, context 128) with different θ and seeds."""
    from transformers import AutoModelForCausalLM, LlamaConfig

    from attnscope.corpora import stdlib_prose
    from attnscope.training.tokenizer import train_bpe_tokenizer

    root = tmp_path_factory.mktemp("panel-models")
    tok = train_bpe_tokenizer(stdlib_prose("train")[:6_000], 280, model_max_length=128)
    for i, theta in enumerate((10_000.0, 500.0)):
        torch.manual_seed(i)
        cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                          rope_theta=theta, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
        AutoModelForCausalLM.from_config(cfg).save_pretrained(root / f"m{i}")
        tok.save_pretrained(root / f"m{i}")
    return root
