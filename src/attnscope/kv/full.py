"""The full cache: keep every token (the reference every other policy is compared with)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from attnscope.kv.base import KVPolicy

__all__ = ["FullCache"]


@dataclass
class FullCache(KVPolicy):
    """Keep everything. Identical to running the model without a policy (tests/kv check torch.equal)."""

    name = "full"

    def capacity(self, layer_idx: int) -> Optional[int]:
        return None

    def keep_indices(self, layer_idx: int, positions: np.ndarray, n_seen: int) -> Optional[np.ndarray]:
        return None
