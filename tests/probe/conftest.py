"""Fixtures for the probe tests: tiny seeded models and token ids."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from tiny_models import FAMILY_CONFIGS, VOCAB, tiny_model  # noqa: E402

T = 40
QUERIES = [0, 3, 8, 17, 39]


@functools.lru_cache(maxsize=None)
def cached_model(family: str) -> torch.nn.Module:
    return tiny_model(family)


@pytest.fixture
def ids() -> torch.Tensor:
    return torch.randint(0, VOCAB, (1, T), generator=torch.Generator().manual_seed(1))


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield


__all__ = ["FAMILY_CONFIGS", "QUERIES", "T", "cached_model", "tiny_model"]
