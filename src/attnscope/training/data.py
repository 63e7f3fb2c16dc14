"""Token streams, training batches and validation windows for the tiny models.

Every window is ``[BOS] + stream[s : s + T - 1]`` (shape [T]), so each sequence
starts with the BOS sink exactly as a tokenizer-encoded prompt does.

- Training windows start at uniformly random offsets drawn from a
  ``torch.Generator`` seeded with the run seed: the data order is a pure
  function of (seed, step).
- Validation windows are the non-overlapping consecutive chunks of the
  validation stream (deterministic, no randomness), capped at ``max_windows``.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterator

import torch

from attnscope.errors import ProtocolError


def _check_stream(stream: list[int] | torch.Tensor, T: int, what: str) -> torch.Tensor:
    ids = torch.as_tensor(stream, dtype=torch.long)
    if ids.ndim != 1 or ids.numel() < T:
        raise ProtocolError(f"the {what} stream has {ids.numel()} tokens, fewer than one window of {T}",
                            field="context", value=T)
    return ids


def train_batches(stream: list[int] | torch.Tensor, *, T: int, batch: int, seed: int,
                  bos_id: int) -> Iterator[torch.Tensor]:
    """Yield endless training batches of shape [batch, T] (BOS + T-1 stream tokens)."""
    ids = _check_stream(stream, T, "training")
    gen = torch.Generator().manual_seed(int(seed))
    n_starts = ids.numel() - (T - 1) + 1
    offsets = torch.arange(T - 1)
    bos = torch.full((batch, 1), bos_id, dtype=torch.long)
    while True:
        starts = torch.randint(0, n_starts, (batch,), generator=gen)
        body = ids[starts[:, None] + offsets[None, :]]  # [batch, T-1]
        yield torch.cat([bos, body], dim=1)  # [batch, T]


def validation_windows(stream: list[int] | torch.Tensor, *, T: int, bos_id: int,
                       max_windows: int | None = None) -> torch.Tensor:
    """Non-overlapping windows [n, T] over the validation stream (the last partial chunk is dropped)."""
    ids = _check_stream(stream, T - 1, "validation")
    n = ids.numel() // (T - 1)
    if max_windows is not None:
        n = min(n, int(max_windows))
    body = ids[: n * (T - 1)].view(n, T - 1)
    return torch.cat([torch.full((n, 1), bos_id, dtype=torch.long), body], dim=1)


def unigram_cross_entropy(train_stream: list[int], targets: torch.Tensor, vocab_size: int) -> float:
    """Cross-entropy (nats/token) of ``targets`` under the add-one-smoothed training unigram.

    This is the loss of the best context-free predictor fitted on the training
    text; a model that learned anything beyond token frequencies beats it.

    Parameters
    ----------
    train_stream : list of int
        Training token ids (the unigram is estimated here).
    targets : Tensor of int
        The validation tokens that the model's loss is computed on.
    vocab_size : int
        Size of the vocabulary (the add-one prior spans all of it).
    """
    counts = Counter(int(t) for t in train_stream)
    total = len(train_stream) + vocab_size
    tgt = Counter(int(t) for t in targets.reshape(-1).tolist())
    n = sum(tgt.values())
    return -sum(c * math.log((counts.get(tok, 0) + 1) / total) for tok, c in tgt.items()) / n
