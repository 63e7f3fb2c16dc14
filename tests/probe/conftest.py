"""Fixtures for the probe tests: tiny seeded models and token ids."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from tiny_models import T, VOCAB  # noqa: E402


@pytest.fixture
def ids() -> torch.Tensor:
    return torch.randint(0, VOCAB, (1, T), generator=torch.Generator().manual_seed(1))


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield

