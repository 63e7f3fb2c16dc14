"""Training windows, validation windows and the unigram baseline on planted inputs."""
from __future__ import annotations

import math

import pytest
import torch

from attnscope.errors import ProtocolError
from attnscope.training.data import train_batches, unigram_cross_entropy, validation_windows


def test_validation_windows_are_bos_plus_consecutive_chunks():
    stream = list(range(10, 10 + 23))  # 23 tokens -> 3 windows of 1 + 7
    w = validation_windows(stream, T=8, bos_id=0)
    assert w.shape == (3, 8)
    assert torch.equal(w[:, 0], torch.zeros(3, dtype=torch.long))
    assert w[:, 1:].reshape(-1).tolist() == stream[:21]
    assert validation_windows(stream, T=8, bos_id=0, max_windows=2).shape == (2, 8)


def test_train_batches_deterministic_in_range_and_seed_dependent():
    stream = torch.arange(100, 300)
    a = [next(b) for b in [train_batches(stream, T=16, batch=4, seed=5, bos_id=0)] for _ in range(3)]
    b = [next(g) for g in [train_batches(stream, T=16, batch=4, seed=5, bos_id=0)] for _ in range(3)]
    c = next(train_batches(stream, T=16, batch=4, seed=6, bos_id=0))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c)
    x = a[0]
    assert x.shape == (4, 16) and (x[:, 0] == 0).all()
    assert (x[:, 2:] - x[:, 1:-1] == 1).all()  # contiguous slices of the stream
    assert x[:, 1:].min() >= 100 and x[:, 1:].max() < 300


def test_stream_shorter_than_a_window_is_an_error():
    with pytest.raises(ProtocolError, match="context"):
        validation_windows([1, 2, 3], T=16, bos_id=0)


def test_unigram_cross_entropy_planted():
    V = 8
    train = list(range(V)) * 50  # uniform counts: add-one smoothing keeps it uniform
    targets = torch.tensor([0, 3, 5, 7])
    assert unigram_cross_entropy(train, targets, V) == pytest.approx(math.log(V))
    skewed = [0] * 97 + [1]  # p(0) = 98/106, p(1) = 2/106, others 1/106
    assert unigram_cross_entropy(skewed, torch.tensor([0]), V) == pytest.approx(-math.log(98 / 106))
    assert unigram_cross_entropy(skewed, torch.tensor([5]), V) == pytest.approx(math.log(106))
