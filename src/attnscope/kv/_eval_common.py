"""Shared by kv-eval and extend-eval: prompts, per-token losses, bootstrap summaries, result rows.

Tasks
-----
* ``prose`` — held-out text (:func:`attnscope.corpora.stdlib_prose` "validation",
  via :func:`attnscope.measure.corpora.build_prompts`), T-token windows starting
  with BOS; score = mean NLL (nats/token) of the targets at positions ≥ ``score_from``.
* ``copy`` (retrieval proxy) — the same prose windows with a random-token span of
  S tokens written twice: the second copy ends the window (positions T−S..T−1) and
  the first starts ``lag`` tokens earlier. score = mean NLL of copy tokens 2..S of
  the SECOND copy (the first token of a copy is not predictable from the copy).
  Null: the same tokens of the FIRST copy (no earlier occurrence), and chance
  ln(#drawable tokens). Retrieval works iff second ≪ first.

Uncertainty: percentile/BCa bootstrap over prompts (:func:`cluster_bootstrap`),
paired with the reference configuration for differences.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from attnscope.errors import ProtocolError

__all__ = ["TaskPrompts", "prose_prompts", "copy_prompts", "token_nll", "score", "add_scores", "task_score",
           "Summary", "summarize", "TaskScore", "provenance"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Summary(_Model):
    """Mean over prompts with a bootstrap CI."""

    mean: Optional[float]
    ci95_lo: Optional[float] = None
    ci95_hi: Optional[float] = None


class TaskScore(_Model):
    """One configuration on one task: NLL and its paired difference to the reference."""

    task: str = Field(description="'prose' or 'copy'")
    lag: Optional[int] = Field(default=None, description="copy task: distance between the two copies (tokens)")
    nll: Summary = Field(description="mean NLL, nats/token")
    ppl: Summary = Field(description="exp(mean NLL)")
    delta_nll_vs_ref: Optional[Summary] = Field(default=None, description="paired NLL minus the reference's")
    null_first_copy_nll: Optional[Summary] = Field(default=None, description="copy task: NLL of the same tokens "
                                                   "in the first copy (no earlier occurrence)")
    retrieval_gain: Optional[Summary] = Field(default=None, description="copy task: first-copy minus second-copy "
                                              "NLL, paired per prompt (nats/token); > 0 = the copy is retrieved")


@dataclass
class TaskPrompts:
    """Token ids [P, T] of one task, with the target positions scored (indices into the T−1 shifted targets)."""

    task: str
    lag: Optional[int]
    ids: np.ndarray
    score_pos: np.ndarray
    null_pos: Optional[np.ndarray] = None


def prose_prompts(tokenizer, config: dict, *, T: int, n: int, seed: int, score_from: int,
                  warnings: list[str]) -> TaskPrompts:
    """Held-out prose windows of T tokens; scored targets are positions score_from..T−1.

    Only the held-out split is used (never the training text: the bundled models
    are small enough to memorise it). When it holds fewer than ``n`` windows of T
    tokens, the available number is used and a warning says so; fewer than 2 is an error.
    """
    from attnscope.corpora import stdlib_prose
    from attnscope.measure.corpora import build_prompts, token_stream, tokenizer_bos

    if not 1 <= score_from < T:
        raise ProtocolError(f"score_from must lie in [1, T) = [1, {T})", field="score_from", value=score_from)
    body = T - (1 if tokenizer_bos(tokenizer) is not None else 0)
    available = len(token_stream(tokenizer, stdlib_prose("validation"))) // body
    if available < 2:
        raise ProtocolError(f"the held-out prose holds {available} window(s) of {T} tokens; at least 2 are "
                            "needed: lower T", field="T", value=T)
    if available < n:
        warnings.append(f"the held-out prose holds only {available} windows of {T} tokens: used {available} "
                        f"prompts instead of {n}")
        n = available
    pr = build_prompts("text", tokenizer=tokenizer, config=config, n_per_seed=n, length=T, seeds=[seed])
    if pr.info.get("text_source") != "stdlib_prose('validation')":  # pragma: no cover - guarded above
        raise ProtocolError("held-out prose expected", field="T", value=T)
    warnings.extend(pr.warnings)
    return TaskPrompts("prose", None, pr.ids, np.arange(score_from, T) - 1)


def copy_prompts(prose: TaskPrompts, *, span: int, lag: int, vocab: int, exclude: set[int],
                 seed: int) -> TaskPrompts:
    """Write a random span twice into each prose window: second copy at T−S..T−1, first ``lag`` earlier."""
    P, T = prose.ids.shape
    if span < 2:
        raise ProtocolError("the copy span must be at least 2 tokens", field="copy_span", value=span)
    if lag < span or T - span - lag < 1:
        raise ProtocolError(f"a copy lag must lie in [span, T - span - 1] = [{span}, {T - span - 1}]",
                            field="lags", value=lag)
    allowed = np.setdiff1d(np.arange(vocab), np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
    rng = np.random.default_rng([int(seed), 7, int(lag)])
    spans = allowed[rng.integers(0, allowed.size, size=(P, span))]
    ids = prose.ids.copy()
    second, first = T - span, T - span - lag
    ids[:, second:] = spans
    ids[:, first:first + span] = spans
    # target index t predicts token t+1: copy tokens 2..S are targets second+1..T-1 -> indices second..T-2
    return TaskPrompts("copy", lag, ids, np.arange(second, T - 1), np.arange(first, first + span - 1))


@torch.no_grad()
def token_nll(model, ids: np.ndarray, *, batch: int, context: Callable[[], Any]) -> np.ndarray:
    """Per-token NLL [P, T−1] (float64, nats) of one teacher-forced forward per batch of prompts.

    ``context()`` returns the context manager to run each forward in (a KV backend
    with simulated masks, or a no-op for the plain model).
    """
    device = next(model.parameters()).device
    out = []
    for k in range(0, len(ids), batch):
        x = torch.as_tensor(ids[k:k + batch], device=device)
        with context():
            logits = model(x, use_cache=False).logits  # [b, T, V]
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        nll = -logp.gather(-1, x[:, 1:, None]).squeeze(-1)  # [b, T-1]
        out.append(nll.double().cpu().numpy())
    return np.concatenate(out)


def score(nll: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Per-prompt mean NLL over the scored target indices: [P]."""
    return nll[:, pos].mean(axis=1)


def add_scores(d: dict[str, np.ndarray], label: str, task: TaskPrompts, nll: np.ndarray) -> None:
    """Per-prompt task score under ``label``; copy tasks add ``label#null`` and ``label#gain`` (null − score)."""
    d[label] = score(nll, task.score_pos)
    if task.null_pos is not None:
        d[f"{label}#null"] = score(nll, task.null_pos)
        d[f"{label}#gain"] = d[f"{label}#null"] - d[label]


def task_score(summ: dict, label: str, task: str, lag: Optional[int]) -> TaskScore:
    """The TaskScore of ``label`` from :func:`summarize` output (null and gain when present)."""
    nll, ppl, delta = summ[label]
    null = summ.get(f"{label}#null")
    gain = summ.get(f"{label}#gain")
    return TaskScore(task=task, lag=lag, nll=nll, ppl=ppl, delta_nll_vs_ref=delta,
                     null_first_copy_nll=null[0] if null else None, retrieval_gain=gain[0] if gain else None)


def summarize(per_prompt: dict[str, np.ndarray], ref: Optional[np.ndarray], *, n_boot: int,
              seed: int) -> dict[str, tuple[Summary, Summary, Optional[Summary]]]:
    """NLL, perplexity and paired ΔNLL vs ``ref`` for many configurations at once, bootstrap over prompts."""
    from attnscope.measure.bootstrap import cluster_bootstrap, weighted_mean

    names = list(per_prompt)
    values = np.stack([per_prompt[k] for k in names], axis=1)  # [P, K]
    P = values.shape[0]
    cols = [values] + ([values - ref[:, None]] if ref is not None else [])
    allv = np.concatenate(cols, axis=1)
    if P < 2:
        raise ProtocolError("a bootstrap over prompts needs at least 2 prompts", field="prompts", value=P)
    res = cluster_bootstrap(lambda w: weighted_mean(w, allv), P, n_boot=n_boot, rng=np.random.default_rng(seed))
    K = len(names)
    out = {}
    for j, name in enumerate(names):
        nll = Summary(mean=float(res.estimate[j]), ci95_lo=_f(res.lo[j]), ci95_hi=_f(res.hi[j]))
        ppl = Summary(mean=math.exp(nll.mean), ci95_lo=_exp(nll.ci95_lo), ci95_hi=_exp(nll.ci95_hi))
        delta = None
        if ref is not None:
            delta = Summary(mean=float(res.estimate[K + j]), ci95_lo=_f(res.lo[K + j]), ci95_hi=_f(res.hi[K + j]))
        out[name] = (nll, ppl, delta)
    return out


def _f(x) -> Optional[float]:
    return float(x) if x is not None and np.isfinite(x) else None


def _exp(x) -> Optional[float]:
    return math.exp(x) if x is not None else None


def provenance(*, source: str, device: str, dtype: str, wall_s: float, config_sha256: Optional[str],
               extra: dict) -> dict:
    """The Provenance record fields (attnscope.records.Provenance) for a whole-file result."""
    import datetime as _dt

    import transformers

    import attnscope
    from attnscope.records import Provenance

    return Provenance(attnscope=attnscope.__version__, transformers=transformers.__version__,
                      torch=torch.__version__, device=device, dtype=dtype, wall_s=round(wall_s, 3),
                      config_sha256=config_sha256, source=source,
                      created_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                      extra=extra).model_dump(mode="json")


def lags_checked(lags: Sequence[int], *, T: int, span: int) -> list[int]:
    """Copy lags validated against the window (one-line errors)."""
    out = []
    for g in lags:
        if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or g < span or T - span - g < 1:
            raise ProtocolError(f"a copy lag must be an integer in [span, T - span - 1] = [{span}, {T - span - 1}]",
                                field="lags", value=g)
        out.append(int(g))
    return out
