"""Fixtures for arch tests: the bundled preset configs are the real published config.json files."""
from __future__ import annotations

import copy

import pytest

from attnscope.arch import resolve_source


@pytest.fixture
def preset_cfg():
    """Return a deep copy of a preset's raw config dict (safe to mutate)."""

    def _get(name: str) -> dict:
        return copy.deepcopy(resolve_source(name).config)

    return _get
