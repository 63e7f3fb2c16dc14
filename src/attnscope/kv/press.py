"""``GammaWindowPress``: the γ-window as a kvpress press (optional; needs kvpress in a separate environment).

kvpress (NVIDIA/kvpress) compresses the cache once, after the prefill, through
``BasePress.compress(module, hidden_states, keys, values, attentions, kwargs)``.
This press keeps the first ``n_sink`` tokens and the last D_f(γ_l, N, f) + 1
tokens of layer l, N = prefill length − 1 — the same rule as
:class:`attnscope.kv.GammaWindow` (whose decode-time semantics differ: it evicts
at every step). kvpress pins transformers < 5.3 while attnscope uses 5.x, so
this module is meant for a separate environment (the README's KV section); importing
it without kvpress raises :class:`attnscope.errors.MissingExtraError`.

Example (in the kvpress environment)::

    from attnscope.kv.press import GammaWindowPress
    press = GammaWindowPress(gamma=0.748, f=0.9)
    with press(model):
        model(input_ids)   # the cache now holds sinks + the D_f window per layer
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import importlib.util

from attnscope.errors import MissingExtraError

if importlib.util.find_spec("kvpress") is None:
    raise MissingExtraError(
        "GammaWindowPress needs kvpress, which pins transformers < 5.3 (attnscope uses 5.x): create a separate "
        "environment, `pip install kvpress`, then `pip install --no-deps attnscope` (the press only uses "
        "attnscope.theory)", field="extra", value="kvpress")

import torch  # noqa: E402
from kvpress.presses.base_press import BasePress  # noqa: E402

__all__ = ["GammaWindowPress"]


@dataclass
class GammaWindowPress(BasePress):
    """Sinks + the last D_f(γ_l, N, f) tokens per layer (TAF §26.7; attnscope recipe X-19).

    Parameters
    ----------
    gamma : float or list of float
        Decay exponent, one for every layer or one per layer (index = ``module.layer_idx``).
    f : float, default 0.9
        Attention-mass fraction the window holds, in (0, 1].
    n_sink : int, default 4
        Leading tokens always kept.
    """

    gamma: Union[float, list] = 1.0
    f: float = 0.9
    n_sink: int = 4
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    def window(self, n: int, layer_idx: int = 0) -> torch.Tensor:
        """Indices kept out of ``n`` prefill tokens in ``layer_idx``."""
        from attnscope.theory import kv_window

        g = self.gamma[layer_idx] if isinstance(self.gamma, (list, tuple)) else self.gamma
        key = (n, float(g))
        if key not in self._cache:
            D = kv_window(float(g), max(1, n - 1), self.f) if n > 1 else 0
            recent = min(n, D + 1)
            sinks = min(self.n_sink, n - recent)
            self._cache[key] = torch.cat([torch.arange(sinks), torch.arange(n - recent, n)])
        return self._cache[key]

    def compress(self, module, hidden_states, keys, values, attentions, kwargs):
        layer_idx = getattr(module, "layer_idx", 0) if module is not None else 0
        keep = self.window(keys.shape[2], layer_idx).to(keys.device)
        return keys[:, :, keep], values[:, :, keep]
