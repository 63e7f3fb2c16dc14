"""Corpora (random, text, file) and the streaming reducer against a direct computation."""
import numpy as np
import pytest
import torch

from attnscope.errors import ProtocolError
from attnscope.measure.corpora import build_prompts, chunk_prompts, random_prompts, read_text_file
from attnscope.measure.reducers import DecayReducer


def test_random_prompts_seeded_and_free_of_specials():
    a = random_prompts(4, 50, [1, 2], vocab_size=20, exclude={0, 1, 5}, bos_id=0)
    b = random_prompts(4, 50, [1, 2], vocab_size=20, exclude={0, 1, 5}, bos_id=0)
    assert a.ids.shape == (8, 50) and np.array_equal(a.ids, b.ids)
    assert np.all(a.ids[:, 0] == 0) and not np.isin(a.ids[:, 1:], [0, 1, 5]).any()
    assert list(a.seed_of) == [1] * 4 + [2] * 4
    assert not np.array_equal(a.ids[:4], a.ids[4:])


def test_text_chunks_exact_length_distinct_across_seeds():
    stream = np.arange(1000) + 10
    pr = chunk_prompts(stream, 3, 21, [42, 7, 123], bos_id=1, label="text")
    assert pr.ids.shape == (9, 21) and np.all(pr.ids[:, 0] == 1)
    starts = pr.ids[:, 1]
    assert len(set(starts.tolist())) == 9 and np.all((starts - 10) % 20 == 0)  # non-overlapping chunks
    with pytest.raises(ProtocolError, match="fewer than prompts x seeds"):
        chunk_prompts(stream, 30, 21, [1, 2], bos_id=1, label="text")


def test_text_corpus_needs_a_tokenizer():
    with pytest.raises(ProtocolError, match="no tokenizer"):
        build_prompts("text", tokenizer=None, config={}, n_per_seed=2, length=64, seeds=[1])


def test_unknown_corpus_and_empty_file(tmp_path):
    with pytest.raises(ProtocolError, match="unknown corpus"):
        build_prompts("wiki", tokenizer=None, config={}, n_per_seed=2, length=64, seeds=[1])
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(ProtocolError, match="empty"):
        read_text_file(empty)
    with pytest.raises(ProtocolError, match="no such text file"):
        read_text_file(tmp_path / "missing.txt")


def test_text_corpus_held_out_then_recorded_fallback(tiny_folder):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_folder))
    small = build_prompts("text", tokenizer=tok, config={}, n_per_seed=5, length=64, seeds=[1, 2])
    assert small.ids.shape == (10, 64) and small.bos_id == 0 and np.all(small.ids[:, 0] == 0)
    assert small.warnings == [] and small.info["text_source"] == "stdlib_prose('validation')"
    big = build_prompts("text", tokenizer=tok, config={}, n_per_seed=300, length=128, seeds=[1, 2])
    assert big.info["text_source"] == "stdlib_prose('all')" and "too short" in big.warnings[0]


def test_text_file_too_short_is_an_error(tiny_folder, tmp_path):
    from transformers import AutoTokenizer

    f = tmp_path / "short.txt"
    f.write_text("A short text. " * 20)
    tok = AutoTokenizer.from_pretrained(str(tiny_folder))
    with pytest.raises(ProtocolError, match="file:short.txt corpus has"):
        build_prompts("text", tokenizer=tok, config={}, n_per_seed=5, length=64, seeds=[1], text_file=str(f))


def test_reducer_matches_direct_computation():
    rng = np.random.default_rng(0)
    L, H, T = 2, 3, 64
    q = [40, 50, 63]
    ds = [5, 10, 30]
    rows = np.zeros((L, H, len(q), T))
    for k, i in enumerate(q):
        p = rng.random((L, H, i + 1))
        rows[:, :, k, : i + 1] = p / p.sum(-1, keepdims=True)
    red = DecayReducer(q, ds, n_layers=L, window=(10, 30))
    for l in range(L):
        red(l, torch.tensor(rows[l][None], dtype=torch.float32), torch.zeros(1, H, len(q)))
    out = red.result()
    for l in range(L):
        for h in range(H):
            for j, d in enumerate(ds):
                want = np.mean([rows[l, h, k, i - d] for k, i in enumerate(q)])
                assert out.A[l, h, j] == pytest.approx(want, rel=1e-6)
            assert out.sink[l, h] == pytest.approx(rows[l, h, :, 0].mean(), rel=1e-6)
            grid = np.arange(10, 31)
            win = np.stack([rows[l, h, k, i - grid] for k, i in enumerate(q)])
            win /= win.sum(-1, keepdims=True)
            assert out.mean_log_d[l, h] == pytest.approx((win * np.log(grid)).sum(-1).mean(), rel=1e-6)
            assert out.mean_d[l, h] == pytest.approx((win * grid).sum(-1).mean(), rel=1e-6)
    assert out.nonfinite_layers == []


def test_reducer_flags_non_finite_rows_and_missing_layers():
    red = DecayReducer([10], [5], n_layers=2)
    bad = torch.full((1, 1, 1, 11), float("nan"))
    red(0, bad, torch.zeros(1, 1, 1))
    with pytest.raises(RuntimeError, match="layers \\[1\\]"):
        red.result()
    red(0, bad, torch.zeros(1, 1, 1))
    red(1, bad, torch.zeros(1, 1, 1))
    assert red.result().nonfinite_layers == [0, 1]
