"""Measurement protocols: which forwards to run, which rows to read, which null applies.

PROTOCOL.md, "Decay curve A(d)".

- ``rows`` (default): prompts of exactly T tokens, ONE forward per prompt serves
  every distance. Query positions are sampled (seeded, without replacement)
  from [d_max + 1, T - 1], so every query sees every requested distance and no
  (query, distance) pair lands on the sink key (position 0): each A(d) averages
  the same queries, and the uniform null is flat (gamma_uniform = 0, computed
  numerically all the same). The MLE window is [d_min, d_max].
- ``taf-e4`` (published, compatibility): for each prompt and distance d, a forward
  on the first d + 50 tokens, query at d + 49, key at absolute position 49.
  Its uniform null is 1/(d + 50), which alone fits gamma ~ 0.78 on the
  published grid.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Sequence

import numpy as np

from attnscope.errors import ProtocolError
from attnscope.measure.nulls import uniform_curve_rows, uniform_curve_taf_e4

Protocol = Literal["rows", "taf-e4"]
PROTOCOLS: tuple[str, ...] = ("rows", "taf-e4")
PUBLISHED_DISTANCES = (10, 20, 30, 50, 100, 200, 500, 1000, 2000)  # the published grid, tokens
TAF_E4_KEY = 49  # absolute key position of the published protocol
DEFAULT_D_MIN = 30  # smallest distance in the fits, as published
DEFAULT_QUERIES = 32  # query rows per prompt (rows protocol)


@dataclass(frozen=True)
class Forward:
    """One forward pass: a prefix of a prompt, the queries to read, the distances served."""

    prompt: int
    length: int
    query_positions: tuple[int, ...]
    distances: tuple[int, ...]


@dataclass(frozen=True)
class ProtocolPlan:
    """A validated protocol setting.

    Attributes
    ----------
    protocol : {"rows", "taf-e4"}
    prompt_length : int
        Tokens per prompt (rows: T; taf-e4: d_max + 50).
    distances : tuple of int
        Sorted distances (tokens).
    window : (d_min, d_max) or None
        MLE window (rows only, when d_max > d_min).
    n_queries : int
        Requested query rows per prompt (rows); 1 for taf-e4.
    notes : list of str
        Choices the user should know about (recorded as warnings).
    """

    protocol: str
    prompt_length: int
    distances: tuple[int, ...]
    d_min: int
    window: Optional[tuple[int, int]]
    n_queries: int
    notes: list[str] = field(default_factory=list)

    @property
    def T_eval(self) -> int:
        return self.prompt_length

    def query_range(self) -> tuple[int, int]:
        """Inclusive range of query positions (rows)."""
        return self.distances[-1] + 1, self.prompt_length - 1

    def forwards(self, prompt: int, rng: np.random.Generator) -> list[Forward]:
        """The forwards of one prompt; ``rng`` samples the query positions (rows)."""
        if self.protocol == "taf-e4":
            return [Forward(prompt, d + TAF_E4_KEY + 1, (d + TAF_E4_KEY,), (d,)) for d in self.distances]
        lo, hi = self.query_range()
        n = min(self.n_queries, hi - lo + 1)
        q = np.sort(rng.choice(np.arange(lo, hi + 1), size=n, replace=False))
        return [Forward(prompt, self.prompt_length, tuple(int(i) for i in q), self.distances)]

    def null_curve(self, forwards: Sequence[Forward], layer_windows: Sequence[Optional[int]]) -> np.ndarray:
        """Uniform-attention A(d) of one prompt's forwards, per layer: shape (L, n_d).

        ``layer_windows`` holds each layer's sliding window (None = full causal attention).
        """
        if self.protocol == "taf-e4":
            return np.stack([uniform_curve_taf_e4(self.distances, window=w) for w in layer_windows])
        (fw,) = forwards
        q = np.asarray(fw.query_positions)
        return np.stack([uniform_curve_rows(q, self.distances, window=w) for w in layer_windows])


def _clean_distances(distances: Sequence[int]) -> tuple[int, ...]:
    ds = [int(x) for x in distances]
    if not ds:
        raise ProtocolError("give at least one distance", field="distances", value=ds)
    if any(x < 1 for x in ds):
        raise ProtocolError("distances must be >= 1 token", field="distances", value=ds)
    if len(set(ds)) != len(ds):
        raise ProtocolError("distances must not repeat", field="distances", value=ds)
    return tuple(sorted(ds))


def default_distances(protocol: str, T: int, *, queries: int = DEFAULT_QUERIES) -> tuple[tuple[int, ...], list[str]]:
    """The published grid, keeping the distances the protocol can serve at length T.

    rows: d <= T - 1 - queries, so that ``queries`` query positions exist beyond the
    largest distance (T = 2048 keeps d = 2000; T = 512 stops at 200). taf-e4: d + 50 <= T.
    """
    limit = T - 1 - queries if protocol == "rows" else T - TAF_E4_KEY - 1
    kept = tuple(d for d in PUBLISHED_DISTANCES if d <= limit)
    dropped = [d for d in PUBLISHED_DISTANCES if d > limit]
    why = (f"which leave fewer than {queries} query positions at T={T}" if protocol == "rows"
           else f"which need d + 50 > T={T}")
    notes = [f"default distances: the published grid {list(PUBLISHED_DISTANCES)} without {dropped}, "
             f"{why}"] if dropped else []
    return kept, notes


def make_plan(protocol: str, *, T: int, distances: Sequence[int], d_min: int = DEFAULT_D_MIN,
              n_queries: int = DEFAULT_QUERIES, context_length: Optional[int] = None,
              absolute_positions: bool = False) -> ProtocolPlan:
    """Validate a protocol setting and return its plan.

    Parameters
    ----------
    protocol : {"rows", "taf-e4"}
    T : int
        rows: prompt length (tokens). taf-e4: the longest allowed sequence; each
        distance d needs d + 50 <= T.
    distances : sequence of int
        Distances (tokens); rows needs every d <= T - 2 (d = T - 1 would read the sink key).
    d_min : int
        Smallest distance of the fits (tokens).
    n_queries : int
        Query rows per prompt (rows protocol).
    context_length : int or None
        The model's context; longer prompts are an error for absolute position
        embeddings and a recorded note otherwise.
    absolute_positions : bool
        Whether the model has learned absolute position embeddings.
    """
    if protocol not in PROTOCOLS:
        raise ProtocolError(f"unknown protocol; choose one of {', '.join(PROTOCOLS)}", field="protocol", value=protocol)
    if not isinstance(T, (int, np.integer)) or T < 3:
        raise ProtocolError("T must be an integer >= 3 tokens", field="T", value=T)
    if d_min < 1:
        raise ProtocolError("d_min must be >= 1 token", field="d_min", value=d_min)
    ds = _clean_distances(distances)
    notes: list[str] = []
    if protocol == "rows":
        if ds[-1] >= T:
            raise ProtocolError(f"distance {ds[-1]} >= T={T}: a prompt of T tokens has no such distance",
                                field="distances", value=list(ds))
        if ds[-1] == T - 1:
            raise ProtocolError(f"distance T-1={T - 1} only reaches the sink key (position 0), which is "
                                f"excluded from fits; use distances <= T-2", field="distances", value=list(ds))
        if n_queries < 1:
            raise ProtocolError("need at least 1 query row per prompt", field="queries", value=n_queries)
        length = int(T)
        window = (d_min, ds[-1]) if ds[-1] > d_min else None
        if window is None:
            notes.append(f"no MLE fit: the largest distance {ds[-1]} is not above d_min={d_min}")
        avail = T - 1 - ds[-1]
        if avail < n_queries:
            notes.append(f"only {avail} query positions exist in [{ds[-1] + 1}, {T - 1}] (i > max distance); "
                         f"using {avail} per prompt instead of {n_queries}")
    else:
        need = ds[-1] + TAF_E4_KEY + 1
        if need > T:
            raise ProtocolError(f"taf-e4 needs length d+50={need} for distance {ds[-1]}, more than T={T}",
                                field="distances", value=list(ds))
        length, window, n_queries = need, None, 1
        notes.append("taf-e4 reads one key per forward: no MLE fit (it needs full rows; use --protocol rows)")
    if int(sum(d >= d_min for d in ds)) < 2:
        raise ProtocolError(f"need at least 2 distances >= d_min={d_min} for the power-law fit",
                            field="distances", value=list(ds))
    if context_length is not None and length > context_length:
        if absolute_positions:
            raise ProtocolError(f"sequence length {length} exceeds the model's {context_length} learned "
                                f"positions", field="T", value=T)
        notes.append(f"sequence length {length} exceeds the model's context {context_length}: extrapolation")
    return ProtocolPlan(protocol, length, ds, int(d_min), window, int(n_queries), notes)
