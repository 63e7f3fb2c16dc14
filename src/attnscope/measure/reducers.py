"""Streaming reducers: fold each layer's attention rows into per-(layer, head) statistics.

``attnscope.probe.probe_forward(model, input_ids, query_positions, reducer)``
calls ``reducer(layer_idx, rows, log_z)`` as each layer runs, with
``rows`` float32 of shape [B, H, Q, T] (B = 1 here) and ``log_z`` [B, H, Q].
The reducer keeps O(L * H * n_d) numbers per prompt, so memory does not grow
with T * Q * L (the rows of one layer are released when the layer is done).

Kept per (layer, head), each averaged over the prompt's queries:
A at the requested distances (key i - d; pairs whose key is the sink or does
not exist are skipped), the sink mass p(sink), the MLE window statistics
<ln d> and <d> of the row renormalised on [d_min, d_max], log Z and the row
entropy (nats).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch


@dataclass
class ReducedPrompt:
    """Statistics of one prompt, numpy float64.

    A : (L, H, n_d); sink : (L, H); mean_log_d, mean_d : (L, H) or None;
    log_z, entropy_nats : (L, H); nonfinite_layers : layers whose rows or log Z
    contained NaN/inf (empty when clean).
    """

    A: np.ndarray
    sink: np.ndarray
    mean_log_d: Optional[np.ndarray]
    mean_d: Optional[np.ndarray]
    log_z: np.ndarray
    entropy_nats: np.ndarray
    nonfinite_layers: list[int]


class DecayReducer:
    """Reducer for the rows and taf-e4 protocols (taf-e4: one query, one distance).

    Parameters
    ----------
    query_positions : sequence of int, (Q,)
        Absolute query positions (tokens), as passed to ``probe_forward``.
    distances : sequence of int, (n_d,)
        Distances d (tokens); A(d) reads key i - d.
    n_layers : int
        Layers the probe must report (a missing layer is an error in :meth:`result`).
    window : (d_min, d_max) or None
        MLE window (tokens); every query must satisfy i - d_max >= 0.
    sink : int
        Absolute position of the sink key (0: the first token / BOS).
    """

    def __init__(self, query_positions: Sequence[int], distances: Sequence[int], *, n_layers: int,
                 window: Optional[tuple[int, int]] = None, sink: int = 0) -> None:
        self.query_positions = [int(i) for i in query_positions]
        self.distances = [int(x) for x in distances]
        self.n_layers = int(n_layers)
        self.window = window
        self.sink = int(sink)
        self._cache: dict[str, torch.Tensor] = {}
        self._out: dict[int, dict[str, torch.Tensor]] = {}
        self._nonfinite: list[int] = []

    def _index(self, device: torch.device) -> dict[str, torch.Tensor]:
        if "keys" not in self._cache or self._cache["keys"].device != device:
            i = torch.tensor(self.query_positions, device=device)[:, None]  # (Q, 1)
            keys = i - torch.tensor(self.distances, device=device)[None, :]  # (Q, n_d)
            valid = (keys >= 0) & (keys != self.sink)
            self._cache = {"keys": keys.clamp(min=0), "valid": valid.to(torch.float64)}
            if self.window is not None:
                # keys j = i - d_max .. i - d_min ascending, i.e. d descending
                grid = torch.arange(self.window[1], self.window[0] - 1, -1, device=device, dtype=torch.float64)
                self._cache["log_grid"] = grid.log()
                self._cache["grid"] = grid
        return self._cache

    @torch.no_grad()
    def __call__(self, layer_idx: int, rows: torch.Tensor, log_z: torch.Tensor) -> None:
        rows = rows[0].float()  # (H, Q, T)
        lz = log_z[0].float()  # (H, Q)
        # an all-NaN log Z means "unavailable" (eager-fallback families return probabilities only)
        lz_ok = bool(torch.isfinite(lz).all() or torch.isnan(lz).all())
        if not (torch.isfinite(rows).all() and lz_ok):
            self._nonfinite.append(int(layer_idx))
        c = self._index(rows.device)
        H, Q, _ = rows.shape
        # the gathered values are few: accumulate them in float64 (exact means of float32 rows)
        gathered = rows.gather(-1, c["keys"].expand(H, -1, -1)).double()  # (H, Q, n_d)
        n_valid = c["valid"].sum(0)  # (n_d,)
        a = (gathered * c["valid"]).sum(1) / n_valid  # (H, n_d); NaN where no query contributes
        out = {
            "A": a,
            "sink": rows[:, :, self.sink].double().mean(1),
            "log_z": lz.double().mean(1),
            "entropy": -torch.special.xlogy(rows, rows).sum(-1).mean(1),
        }
        if self.window is not None:
            lo, hi = self.window
            mld = torch.empty(H, Q, dtype=torch.float64, device=rows.device)
            md = torch.empty_like(mld)
            for k, i in enumerate(self.query_positions):  # a view per query: O(H * n_win) extra memory
                seg = rows[:, k, i - hi:i - lo + 1].double()  # (H, n_win)
                mass = seg.sum(-1)
                mld[:, k] = (seg @ c["log_grid"]) / mass
                md[:, k] = (seg @ c["grid"]) / mass
            out["mean_log_d"] = mld.mean(1)
            out["mean_d"] = md.mean(1)
        self._out[int(layer_idx)] = {k: v.detach().to("cpu", torch.float64) for k, v in out.items()}

    def result(self) -> ReducedPrompt:
        """Stack the layers (and reset for the next prompt)."""
        missing = sorted(set(range(self.n_layers)) - set(self._out))
        if missing:
            raise RuntimeError(f"the probe reported no attention rows for layers {missing} "
                               f"(of {self.n_layers}); the model's attention bypassed the probe")
        layers = [self._out[k] for k in range(self.n_layers)]

        def stack(name: str) -> np.ndarray:
            return torch.stack([lay[name] for lay in layers]).numpy()

        res = ReducedPrompt(
            A=stack("A"), sink=stack("sink"),
            mean_log_d=stack("mean_log_d") if self.window is not None else None,
            mean_d=stack("mean_d") if self.window is not None else None,
            log_z=stack("log_z"), entropy_nats=stack("entropy"),
            nonfinite_layers=sorted(set(self._nonfinite)),
        )
        self._out, self._nonfinite = {}, []
        return res
