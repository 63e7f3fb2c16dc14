"""Fixtures for the measure tests: one thread, a tiny model folder (weights + tokenizer)."""
from __future__ import annotations

import pytest
import torch

from measure_fixtures import tiny_llama


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    """A folder with config.json, model.safetensors and a byte-level BPE tokenizer (BOS prepended)."""
    from attnscope.corpora import stdlib_prose
    from attnscope.training.tokenizer import train_bpe_tokenizer

    folder = tmp_path_factory.mktemp("models") / "tiny-test"
    tok = train_bpe_tokenizer(stdlib_prose("train")[:20_000], 300, model_max_length=128)
    model = tiny_llama(0, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
