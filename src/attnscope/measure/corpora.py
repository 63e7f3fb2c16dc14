"""Prompt token streams for the measurement corpora: ``random``, ``text``, a user file.

- ``random``: seeded uniform token ids over the tokenizer's (or config's)
  vocabulary, never a special token.
- ``text``: the held-out split of :func:`attnscope.corpora.stdlib_prose`
  ("validation": never seen by the bundled models), tokenized with the model's
  tokenizer. When it is too short for prompts x seeds chunks, the whole text is
  used and a warning says so (the bundled models were trained on the rest).
- ``file``: the user's text file (no fallback: too short is an error).

Prompts are exactly ``length`` tokens. When the tokenizer prepends a BOS token,
position 0 of every prompt (random ones too) is that BOS, followed by
``length - 1`` corpus tokens; the sink key is position 0 either way. Text
prompts are non-overlapping chunks: the seeds are taken in order, each seed
permutes the chunks with its own generator and takes the first ``n`` not taken
by an earlier seed, so every prompt is a distinct cluster.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from attnscope.errors import ProtocolError

CORPORA: tuple[str, ...] = ("text", "random")


@dataclass
class Prompts:
    """Token ids of every prompt and where they came from.

    ids : ndarray (n_prompts, length) int64; seed_of : ndarray (n_prompts,) int
    (the seed that drew each prompt); label : corpus label for the record;
    bos_id : BOS token at position 0 or None; warnings : choices to record;
    info : provenance (text sha256, chunk counts).
    """

    ids: np.ndarray
    seed_of: np.ndarray
    label: str
    bos_id: Optional[int]
    warnings: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def tokenizer_bos(tokenizer) -> Optional[int]:
    """The BOS id when the tokenizer prepends one to encoded text, else None."""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return None
    with_special = tokenizer("a", add_special_tokens=True)["input_ids"]
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    return int(bos) if len(with_special) > len(plain) and with_special[0] == bos else None


def special_ids(tokenizer, config: dict) -> set[int]:
    """Ids never drawn by the random corpus: the tokenizer's specials and the config's bos/eos/pad."""
    ids: set[int] = set()
    if tokenizer is not None:
        ids.update(int(i) for i in tokenizer.all_special_ids)
    for k in ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id"):
        v = config.get(k)
        for i in (v if isinstance(v, list) else [v]):
            if isinstance(i, int):
                ids.add(i)
    return ids


def random_prompts(n_per_seed: int, length: int, seeds: Sequence[int], *, vocab_size: int,
                   exclude: set[int], bos_id: Optional[int]) -> Prompts:
    """Seeded uniform token ids; ``length`` tokens per prompt (BOS first when given)."""
    allowed = np.setdiff1d(np.arange(vocab_size), np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
    if allowed.size < 2:
        raise ProtocolError("the vocabulary has no ordinary tokens to draw", field="vocab_size", value=vocab_size)
    body = length - (1 if bos_id is not None else 0)
    rows, seed_of = [], []
    for s in seeds:
        rng = np.random.default_rng([int(s), 1])
        draw = allowed[rng.integers(0, allowed.size, size=(n_per_seed, body))]
        if bos_id is not None:
            draw = np.concatenate([np.full((n_per_seed, 1), bos_id), draw], axis=1)
        rows.append(draw)
        seed_of += [int(s)] * n_per_seed
    return Prompts(np.concatenate(rows).astype(np.int64), np.array(seed_of), "random", bos_id,
                   info={"vocab_drawn": int(allowed.size)})


def token_stream(tokenizer, text: str) -> np.ndarray:
    """Token ids of ``text`` without special tokens."""
    ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
    return np.asarray(ids, dtype=np.int64)


def chunk_prompts(stream: np.ndarray, n_per_seed: int, length: int, seeds: Sequence[int], *,
                  bos_id: Optional[int], label: str) -> Prompts:
    """Distinct non-overlapping chunks of the stream, allocated seed by seed (module docstring)."""
    body = length - (1 if bos_id is not None else 0)
    n_chunks = len(stream) // body
    need = n_per_seed * len(seeds)
    if n_chunks < need:
        raise ProtocolError(f"the {label} corpus has {len(stream)} tokens = {n_chunks} chunks of {body}, "
                            f"fewer than prompts x seeds = {need}; lower --prompts or --T",
                            field="prompts", value=n_per_seed)
    taken: set[int] = set()
    rows, seed_of = [], []
    for s in seeds:
        order = np.random.default_rng([int(s), 0]).permutation(n_chunks)
        mine = [int(k) for k in order if int(k) not in taken][:n_per_seed]
        taken.update(mine)
        for k in mine:
            chunk = stream[k * body:(k + 1) * body]
            rows.append(np.concatenate([[bos_id], chunk]) if bos_id is not None else chunk)
            seed_of.append(int(s))
    return Prompts(np.stack(rows).astype(np.int64), np.array(seed_of), label, bos_id,
                   info={"stream_tokens": int(len(stream)), "chunks_available": int(n_chunks)})


def read_text_file(path: str | Path) -> str:
    """The user's corpus file; a missing or empty file is a ProtocolError."""
    p = Path(path)
    if not p.is_file():
        raise ProtocolError("no such text file", field="text_file", value=str(path))
    text = p.read_text(encoding="utf-8", errors="strict")
    if not text.strip():
        raise ProtocolError("the text file is empty", field="text_file", value=str(path))
    return text


def build_prompts(corpus: str, *, tokenizer, config: dict, n_per_seed: int, length: int,
                  seeds: Sequence[int], text_file: Optional[str] = None) -> Prompts:
    """Prompts for ``corpus`` ("text" or "random"; ``text_file`` replaces the text).

    Raises ProtocolError for an unknown corpus, a text corpus without a tokenizer,
    an empty file or too little text.
    """
    if corpus not in CORPORA:
        raise ProtocolError(f"unknown corpus; choose one of {', '.join(CORPORA)}", field="corpus", value=corpus)
    bos = tokenizer_bos(tokenizer) if tokenizer is not None else None
    if corpus == "random":
        if text_file is not None:
            raise ProtocolError("--text-file needs --corpus text", field="text_file", value=text_file)
        sizes = [int(v) for v in (len(tokenizer) if tokenizer is not None else None, config.get("vocab_size"))
                 if isinstance(v, int)]
        vocab = min(sizes) if sizes else 0  # ids must exist in both the tokenizer and the embedding
        return random_prompts(n_per_seed, length, seeds, vocab_size=vocab,
                              exclude=special_ids(tokenizer, config), bos_id=bos)
    if tokenizer is None:
        raise ProtocolError("the model has no tokenizer, so text cannot be tokenized; "
                            "use --corpus random", field="corpus", value=corpus)
    if text_file is not None:
        text = read_text_file(text_file)
        out = chunk_prompts(token_stream(tokenizer, text), n_per_seed, length, seeds, bos_id=bos,
                            label=f"file:{Path(text_file).name}")
        out.info["text_sha256"] = hashlib.sha256(text.encode()).hexdigest()
        return out
    from attnscope.corpora import stdlib_prose

    text = stdlib_prose("validation")
    stream = token_stream(tokenizer, text)
    body = length - (1 if bos is not None else 0)
    split = "validation"
    if len(stream) // body < n_per_seed * len(seeds):
        split = "all"
        text = stdlib_prose("all")
        stream = token_stream(tokenizer, text)
    out = chunk_prompts(stream, n_per_seed, length, seeds, bos_id=bos, label="text")
    if split == "all":
        out.warnings.append(
            f"the held-out text (stdlib prose, validation split) is too short for {n_per_seed * len(seeds)} "
            f"prompts of {length} tokens; used the whole text, including the bundled models' training split")
    out.info.update(text_source=f"stdlib_prose('{split}')", text_sha256=hashlib.sha256(text.encode()).hexdigest())
    return out
