"""kvpress interoperability: only where kvpress is installed (it pins transformers < 5.3)."""
from __future__ import annotations

import pytest


def test_gamma_window_press_selects_the_window():
    pytest.importorskip("kvpress")
    import torch

    from attnscope.kv.press import GammaWindowPress

    press = GammaWindowPress(gamma=1.0, f=0.9, n_sink=2)
    keys = torch.randn(1, 2, 50, 8)
    values = torch.randn(1, 2, 50, 8)
    k, v = press.compress(None, None, keys, values, None, {})
    keep = press.window(50)
    assert k.shape[2] == keep.numel() and torch.equal(k, keys[:, :, keep])


def test_press_import_error_names_the_extra():
    import importlib.util

    if importlib.util.find_spec("kvpress") is not None:
        pytest.skip("kvpress is installed")
    from attnscope.errors import MissingExtraError

    with pytest.raises(MissingExtraError, match="kvpress"):
        import attnscope.kv.press  # noqa: F401
