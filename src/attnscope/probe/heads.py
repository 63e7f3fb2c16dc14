"""Per-head outputs through forward pre-hooks on each attention block's output projection.

The input of the output projection (``o_proj``, ``out_proj``, ``dense`` or GPT-2's
``c_proj``) is the concatenation of the heads' outputs z_h; the projection maps
head h into the residual stream with its slice W_O^h (d_head x d_model in the
``x @ W`` convention). SDPA stays on: the hooks only read the projection input.

Only this module (with the rest of ``probe/``) knows module names; the atlas
works on the plain arrays it returns.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from attnscope.errors import UnsupportedModelError

# Output-projection child names, tried in order inside each attention module.
_OUT_PROJ_NAMES = ("o_proj", "out_proj", "dense", "c_proj")


@dataclass
class OutProj:
    layer: int
    name: str
    module: torch.nn.Module

    def head_weights(self, n_heads: int) -> np.ndarray:
        """W_O as float64 array [n_heads, d_head, d_model] in the ``x @ W`` convention."""
        w = self.module.weight.detach().to(torch.float64).cpu()
        if type(self.module).__name__ == "Conv1D":  # GPT-2: weight is [in, out]
            w_in_out = w
        else:  # nn.Linear: weight is [out, in]
            w_in_out = w.T
        d_in, d_model = w_in_out.shape
        return w_in_out.reshape(n_heads, d_in // n_heads, d_model).numpy()


def find_out_projections(model: torch.nn.Module) -> list[OutProj]:
    """The output projection of every attention block, in layer order."""
    found: list[OutProj] = []
    for name, module in model.named_modules():
        cls = type(module).__name__
        if not cls.endswith("Attention"):
            continue
        if any(name.startswith(f.name + ".") for f in found):  # nested attention wrappers
            continue
        for child in _OUT_PROJ_NAMES:
            sub = getattr(module, child, None)
            if isinstance(sub, torch.nn.Module) and hasattr(sub, "weight"):
                found.append(OutProj(layer=len(found), name=f"{name}.{child}", module=sub))
                break
    if not found:
        raise UnsupportedModelError(
            "no attention output projection found (o_proj/out_proj/dense/c_proj)",
            field="model_type", value=getattr(getattr(model, "config", None), "model_type", None),
        )
    return found


@contextlib.contextmanager
def collect_head_outputs(
    model: torch.nn.Module, *, n_heads: int, layers: list[int], positions: torch.Tensor | None = None
) -> Iterator[dict[int, list[np.ndarray]]]:
    """Collect z_h for the chosen layers while the model runs.

    Yields a dict layer -> list of float32 arrays [n_tokens, n_heads, d_head], one per
    forward pass; ``positions`` (1-D) selects which token positions are kept.
    Hooks are removed in ``finally``.
    """
    projections = {p.layer: p for p in find_out_projections(model)}
    store: dict[int, list[np.ndarray]] = {layer: [] for layer in layers}
    handles = []

    def make_hook(layer: int):
        def hook(module, args):
            x = args[0].detach()  # [B, T, n_heads * d_head]
            if positions is not None:
                x = x[:, positions.to(x.device)]
            b, t, d = x.shape
            store[layer].append(x.reshape(b * t, n_heads, d // n_heads).to(torch.float32).cpu().numpy())

        return hook

    try:
        for layer in layers:
            handles.append(projections[layer].module.register_forward_pre_hook(make_hook(layer)))
        yield store
    finally:
        for h in handles:
            h.remove()
