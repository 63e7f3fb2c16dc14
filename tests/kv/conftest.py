"""Fixtures for the KV tests: one thread, a tiny in-process Llama, a tiny model folder with a tokenizer."""
from __future__ import annotations

import pytest
import torch


def make_tiny(seed: int = 0, *, layers: int = 2, theta: float = 100.0, T: int = 64, vocab: int = 64,
              bos_token_id: int | None = None, eos_token_id: int | None = None):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=T,
                      rope_parameters={"rope_type": "default", "rope_theta": theta}, tie_word_embeddings=True,
                      bos_token_id=bos_token_id, eos_token_id=eos_token_id, pad_token_id=None)
    torch.manual_seed(seed)
    return LlamaForCausalLM(cfg).eval()


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny():
    return make_tiny(0)


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    """config.json + model.safetensors + a byte-level BPE tokenizer (BOS first), T_train = 48."""
    from attnscope.corpora import stdlib_prose
    from attnscope.training.tokenizer import train_bpe_tokenizer

    folder = tmp_path_factory.mktemp("kvmodels") / "tiny-kv"
    tok = train_bpe_tokenizer(stdlib_prose("train")[:20_000], 300, model_max_length=48)
    model = make_tiny(1, T=48, vocab=300, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
