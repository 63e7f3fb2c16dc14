"""Fixtures: tiny random-init models of every family, built from configs (no hub)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _families import TINY_CONFIGS, build_tiny  # noqa: E402


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> Path:
    """A saved 10-layer tiny llama with planted input-norm and q-projection trajectories."""
    import torch

    cfg = dict(TINY_CONFIGS["llama"], num_hidden_layers=10)
    model = build_tiny(cfg, seed=0)
    noise = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for i, layer in enumerate(model.model.layers):  # 0.8 * 1.1^L with 1% per-layer scatter
            layer.input_layernorm.weight.fill_(0.8 * 1.1 ** i * (1 + 0.01 * torch.randn(1, generator=noise).item()))
            layer.self_attn.q_proj.weight.mul_(1.0 + 0.1 * i)
    out = tmp_path_factory.mktemp("tiny_llama")
    model.save_pretrained(out)
    return out
