"""``measure``: load -> prompts -> probe (streaming reducer) -> estimate -> record.

One function reads top to bottom. A run is identified by the content key of
every input that changes its output; when ``out`` already holds a record with
that key, the stored record is returned and nothing runs (resume).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from attnscope.errors import AttnscopeError, ForwardError, ProtocolError, UnsupportedModelError
from attnscope.io import append_jsonl, content_key, read_jsonl
from attnscope.measure.analysis import Analysis, PromptStats, analyze
from attnscope.measure.corpora import Prompts, build_prompts
from attnscope.measure.protocols import ProtocolPlan, default_distances, make_plan
from attnscope.measure.settings import DEFAULT_T_CAP, MeasureSettings, make_settings, weights_fingerprint
from attnscope.records import MeasurementRecord

Progress = Callable[[int, int, str], None]  # (done, total, description)
MLP_CHUNK, MLP_CHUNK_FROM_T = 4096, 32768  # tokens per MLP chunk, and the prompt length from which to chunk
NO_ATTENTION_FAMILIES = ("mamba", "mamba2", "falcon_mamba", "rwkv", "xlstm")  # as probe.families


@dataclass
class ModelInfo:
    """What the record says about the model, independent of how it was loaded."""

    model_id: str
    config: dict[str, Any]
    config_sha256: Optional[str]
    source: str
    weights: list[dict[str, Any]] = field(default_factory=list)
    arch: Optional[dict[str, Any]] = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """Raw outputs of the forward loop (inputs of the record builder)."""

    analysis: Analysis
    plan: ProtocolPlan
    prompts: Prompts
    entropy: np.ndarray  # (L, H) mean row entropy, nats
    log_z: np.ndarray  # (L, H) mean log Z
    n_forwards: int
    n_queries_effective: int
    device: str
    wall_s: float


def _arch_of(config: dict[str, Any], name: str, source: str, warnings: list[str]) -> Optional[dict[str, Any]]:
    from attnscope.arch import parse_config

    try:
        spec = parse_config(config, name=name, source=source)
    except AttnscopeError as exc:
        warnings.append(f"arch not parsed ({exc.one_line()}): predictions unavailable")
        return None
    return spec.model_dump(mode="json")


def _check_attention(info: ModelInfo) -> None:
    fam = (info.arch or {}).get("family") or info.config.get("model_type")
    if fam in NO_ATTENTION_FAMILIES or str(info.config.get("model_type", "")) in NO_ATTENTION_FAMILIES:
        raise UnsupportedModelError("this family has no attention layers to measure (state-space model)",
                                    field="family", value=fam)


def resolve_plan(settings: MeasureSettings, info: ModelInfo) -> tuple[MeasureSettings, ProtocolPlan, list[str]]:
    """Fill T and distances from the model when not given; validate; return notes."""
    arch = info.arch or {}
    ctx = arch.get("context_length") or info.config.get("max_position_embeddings")
    notes: list[str] = []
    T = settings.T
    if T is None:
        cap = DEFAULT_T_CAP[settings.protocol]
        if ctx is None:
            T = cap
            notes.append(f"the config states no context length; T defaults to {cap}")
        else:
            T = min(cap, int(ctx))
            if T != cap:
                notes.append(f"T defaults to the model's context {T} (below {cap})")
    ds = settings.distances
    if ds is None:
        ds, dnotes = default_distances(settings.protocol, T, queries=settings.queries)
        notes += dnotes
    plan = make_plan(settings.protocol, T=T, distances=ds, d_min=settings.d_min, n_queries=settings.queries,
                     context_length=int(ctx) if ctx else None,
                     absolute_positions=arch.get("position_encoding") == "absolute")
    windows = sorted({w for w in (arch.get("layer_window") or []) if w is not None and w <= plan.distances[-1]})
    if windows:
        notes.append(f"sliding-window layers (window {windows} tokens) give A(d) = 0 at d >= window; those points "
                     f"drop out of their layer's fits, the uniform null applies each layer's window, and those "
                     f"layers are left out of the MLE (its window [d_min, d_max] is not fully visible)")
    elif arch.get("layer_window") is None and info.config.get("sliding_window"):
        notes.append("the config has a sliding window but the layer layout is unknown: the null assumes full "
                     "causal attention")
    return replace(settings, T=T, distances=tuple(plan.distances)), plan, notes + plan.notes


def run_key(settings: MeasureSettings, info: ModelInfo) -> str:
    """Content key of a resolved run (T and distances filled in)."""
    return content_key({"kind": "measurement", "model": info.model_id, "source": info.source,
                        "config_sha256": info.config_sha256, "weights": info.weights,
                        "settings": settings.key_params()})


def find_record(out: Optional[str | Path], key: str) -> Optional[MeasurementRecord]:
    """The finished record with ``key`` in ``out``, if any."""
    if out is None or not Path(out).exists():
        return None
    for obj in read_jsonl(out):
        if obj.get("kind") == "measurement" and obj.get("key") == key:
            return MeasurementRecord.model_validate(obj)
    return None


def layer_windows(info: ModelInfo, n_layers: int) -> list[Optional[int]]:
    """Each layer's sliding window (tokens) from the parsed architecture; None = full causal."""
    lw = (info.arch or {}).get("layer_window")
    if not lw or len(lw) != n_layers:
        return [None] * n_layers
    return [int(w) if w is not None else None for w in lw]


def _forward_loop(model, prompts: Prompts, plan: ProtocolPlan, *, model_id: str, dtype: str,
                  windows: Optional[list[Optional[int]]], progress: Optional[Progress]
                  ) -> tuple[PromptStats, np.ndarray, np.ndarray, int, int]:
    import torch

    from attnscope.measure.reducers import DecayReducer
    from attnscope.probe import probe_forward

    n_layers = int(model.config.get_text_config().num_hidden_layers)
    windows = windows if windows is not None and len(windows) == n_layers else [None] * n_layers
    # layers whose window hides part of [d_min, d_max] get no MLE fit (NaN, left out of the pooling)
    mle_off = [w is not None and plan.window is not None and w <= plan.window[1] for w in windows]
    P = len(prompts.ids)
    plans = [plan.forwards(p, np.random.default_rng([int(prompts.seed_of[p]), 2, p])) for p in range(P)]
    total = sum(len(f) for f in plans)
    done = 0
    A, sink, mld, md, null, ent, lz = [], [], [], [], [], [], []
    for p, fws in enumerate(plans):
        parts = []
        for fw in fws:
            where = (f"model {model_id!r}, prompt {p} (seed {int(prompts.seed_of[p])}, "
                     f"{fw.length} tokens, queries {list(fw.query_positions)[:4]}...)")
            reducer = DecayReducer(fw.query_positions, fw.distances, n_layers=n_layers, window=plan.window)
            try:
                # logits_to_keep=1: the LM head never builds T x vocab logits; mlp_chunk bounds the MLP
                # intermediates at long T (exact: the MLP is token-wise), see docs/probe_memory.md
                probe_forward(model, torch.as_tensor(prompts.ids[p, :fw.length]), list(fw.query_positions), reducer,
                              logits_to_keep=1, mlp_chunk=MLP_CHUNK if fw.length >= MLP_CHUNK_FROM_T else None)
                red = reducer.result()
            except AttnscopeError as exc:  # e.g. the probe's non-finite check: same class, with the context
                raise type(exc)(f"{exc.message} (on {where})", field=exc.field, value=exc.value) from exc
            except Exception as exc:  # abort, naming what failed; never skip a prompt
                raise ForwardError(f"forward failed on {where}: {type(exc).__name__}: {exc}",
                                   field="prompt", value=p) from exc
            if red.nonfinite_layers:
                hint = ("float16 overflows above 65504 in attention logits or activations; re-run with "
                        "--dtype bfloat16 or float32" if dtype == "float16" else
                        "the weights or inputs produce NaN/inf; check the checkpoint")
                raise ForwardError(f"NaN/inf in the attention rows of layers {red.nonfinite_layers} on {where} "
                                   f"at dtype {dtype}: {hint}", field="dtype", value=dtype)
            parts.append(red)
            done += 1
            if progress is not None:
                progress(done, total, f"prompt {p + 1}/{P}")
        A.append(np.concatenate([r.A for r in parts], axis=-1))
        sink.append(np.mean([r.sink for r in parts], axis=0))
        ent.append(np.mean([r.entropy_nats for r in parts], axis=0))
        lz.append(np.mean([r.log_z for r in parts], axis=0))
        null.append(plan.null_curve(fws, windows))
        if plan.window is not None:
            mld.append(np.where(np.array(mle_off)[:, None], np.nan, parts[0].mean_log_d))
            md.append(np.where(np.array(mle_off)[:, None], np.nan, parts[0].mean_d))
    stats = PromptStats(np.asarray(plan.distances), np.stack(A), np.stack(null), np.stack(sink),
                        np.stack(mld) if mld else None, np.stack(md) if md else None, plan.window)
    n_q = len(plans[0][0].query_positions) if plan.protocol == "rows" else 1
    return stats, np.mean(ent, axis=0), np.mean(lz, axis=0), total, n_q


def execute(model, tokenizer, settings: MeasureSettings, plan: ProtocolPlan, info: ModelInfo, *,
            progress: Optional[Progress] = None) -> RunResult:
    """Build the prompts, run the probe over them and analyse (no I/O)."""
    t0 = time.perf_counter()
    prompts = build_prompts(settings.corpus, tokenizer=tokenizer, config=info.config, n_per_seed=settings.prompts,
                            length=plan.prompt_length, seeds=settings.seeds, text_file=settings.text_file)
    n_layers = int(model.config.get_text_config().num_hidden_layers)
    stats, ent, lz, n_fw, n_q = _forward_loop(model, prompts, plan, model_id=info.model_id, dtype=settings.dtype,
                                              windows=layer_windows(info, n_layers), progress=progress)
    analysis = analyze(stats, d_min=settings.d_min, n_boot=settings.n_boot, seed=settings.boot_seed,
                       per_head=settings.per_head)
    device = str(next(model.parameters()).device)
    return RunResult(analysis, plan, prompts, ent, lz, n_fw, n_q, device, time.perf_counter() - t0)


@dataclass(frozen=True)
class Outcome:
    """A record and whether it was found in ``out`` (resumed) rather than measured now."""

    record: MeasurementRecord
    skipped: bool


def measure_model(model, tokenizer, *, model_id: str, config: Optional[dict[str, Any]] = None,
                  out: Optional[str | Path] = None, progress: Optional[Progress] = None,
                  **kwargs: Any) -> MeasurementRecord:
    """Measure an already loaded model (e.g. built in-process); same keywords as :func:`measure`.

    ``dtype`` defaults to the model's parameter dtype (a different one is an error: the record
    must say what ran). ``config`` defaults to ``model.config.to_dict()``.
    """
    return measure_model_outcome(model, tokenizer, model_id=model_id, config=config, out=out, progress=progress,
                                 **kwargs).record


def measure_model_outcome(model, tokenizer, *, model_id: str, config: Optional[dict[str, Any]] = None,
                          out: Optional[str | Path] = None, progress: Optional[Progress] = None,
                          **kwargs: Any) -> Outcome:
    """:func:`measure_model`, also saying whether the record was resumed."""
    from attnscope.archparse.parse import config_sha256

    actual = str(next(model.parameters()).dtype).removeprefix("torch.")
    if kwargs.setdefault("dtype", actual) != actual:
        raise ProtocolError(f"the model is loaded in {actual}; convert it or pass dtype={actual!r}",
                            field="dtype", value=kwargs["dtype"])
    settings = make_settings(**kwargs)
    cfg = config if config is not None else model.config.to_dict()
    info = ModelInfo(model_id, cfg, config_sha256(cfg), source="in-process")
    info.arch = _arch_of(cfg, model_id, "in-process", info.warnings)
    return _measure(lambda: (model, tokenizer), settings, info, out=out, progress=progress)


def _measure(loader: Callable[[], tuple[Any, Any]], settings: MeasureSettings, info: ModelInfo, *, out,
             progress) -> Outcome:
    from attnscope.measure.record import build_record

    _check_attention(info)
    settings, plan, notes = resolve_plan(settings, info)
    key = run_key(settings, info)
    stored = find_record(out, key)
    if stored is not None:
        return Outcome(stored, True)
    model, tokenizer = loader()  # load only when there is work to do
    from attnscope.probe.families import fallback_warning

    fallback = fallback_warning(model)  # a family whose layers bypass the probe backend (eager rows)
    if fallback:
        info.warnings.append(fallback)
    result = execute(model, tokenizer, settings, plan, info, progress=progress)
    record = build_record(key=key, settings=settings, info=info, result=result, notes=notes)
    if out is not None:
        append_jsonl(out, record)
    return Outcome(record, False)


def measure(source: str, *, corpus: str = "text", protocol: str = "rows", T: Optional[int] = None,
            distances: Optional[Sequence[int]] = None, prompts: int = 6, seeds: Sequence[int] = (42, 123, 7),
            dtype: str = "float32", device: str = "auto", per_head: bool = False, random_init: bool = False,
            text_file: Optional[str] = None, revision: Optional[str] = None, load_in_4bit: bool = False,
            trust_remote_code: bool = False, d_min: int = 30, queries: int = 32, n_boot: int = 1000,
            boot_seed: int = 0, device_map: Optional[str] = None, out: Optional[str | Path] = None,
            progress: Optional[Progress] = None) -> MeasurementRecord:
    """Measure the attention decay A(d) of a model's weights, with CIs and the uniform null.

    Parameters
    ----------
    source : str
        Bundled model name (``tiny-main``), preset / hub id or local folder with weights.
    corpus : {"text", "random"}
        Held-out stdlib prose (or ``text_file``) tokenized by the model, or seeded uniform token ids.
    protocol : {"rows", "taf-e4"}
        ``rows``: one forward per prompt of T tokens; ``taf-e4``: the published protocol.
    T : int, optional
        Prompt length in tokens (taf-e4: the longest allowed). Default: min(2048 (2050 for taf-e4),
        model context), recorded as a warning when it differs.
    distances : sequence of int, optional
        Distances d (tokens). Default: the published grid 10..2000 without the distances the protocol
        cannot serve at T (rows: d <= T - 1 - queries, so that every default distance leaves room
        for the query rows), recorded as a warning. Given distances are never dropped: a distance >= T
        (rows: > T - 2; taf-e4: d + 50 > T) is a ProtocolError.
    prompts : int
        Prompts per seed (each prompt is a bootstrap cluster).
    seeds : sequence of int
        Each seed draws ``prompts`` distinct prompts and their query positions.
    dtype : {"float32", "bfloat16", "float16"}
        Weights dtype; attention rows are always computed in float32.
    device : {"auto", "cpu", "cuda", "mps"}
    per_head : bool
        Also report gamma (OLS and MLE) per (layer, head).
    random_init : bool
        Same architecture, freshly initialised weights (seeded by ``seeds[0]``): the falsifier.
    d_min : int
        Smallest distance in the fits (tokens).
    queries : int
        Query rows per prompt (rows protocol).
    n_boot, boot_seed : int
        Bootstrap replicates over prompts and the generator seed.
    device_map : {"auto"}, optional
        Shard a model larger than one GPU through accelerate (overrides ``device``).
    out : path, optional
        JSONL file to append the record to; a finished record with the same key is returned as is.
    progress : callable, optional
        ``progress(done, total, description)`` after every forward pass.

    Returns
    -------
    MeasurementRecord
    """
    return measure_outcome(source, corpus=corpus, protocol=protocol, T=T, distances=distances, prompts=prompts,
                           seeds=seeds, dtype=dtype, device=device, per_head=per_head, random_init=random_init,
                           text_file=text_file, revision=revision, load_in_4bit=load_in_4bit,
                           trust_remote_code=trust_remote_code, d_min=d_min, queries=queries, n_boot=n_boot,
                           boot_seed=boot_seed, device_map=device_map, out=out, progress=progress).record


def measure_outcome(source: str, *, out: Optional[str | Path] = None, progress: Optional[Progress] = None,
                    **kwargs: Any) -> Outcome:
    """:func:`measure` (same keywords), also saying whether the record was resumed from ``out``."""
    from attnscope.arch import resolve_source

    settings = make_settings(**kwargs)
    revision, random_init = settings.revision, settings.random_init
    res = resolve_source(source, revision=revision)
    info = ModelInfo(res.name, res.config, res.config_sha256, source=f"{res.kind}:{res.path or res.name}",
                     weights=weights_fingerprint(res.path))
    info.arch = _arch_of(res.config, res.name, res.kind, info.warnings)

    def load():  # a folder without weights, an offline hub id, ...: ModelSourceError from load_model
        from attnscope.probe.loading import load_model

        model, tok, _ = load_model(source, dtype=settings.dtype, device=settings.device, revision=revision,
                                   random_init=random_init, trust_remote_code=settings.trust_remote_code,
                                   seed=settings.seeds[0], load_in_4bit=settings.load_in_4bit,
                                   device_map=settings.device_map)
        return model, tok

    return _measure(load, settings, info, out=out, progress=progress)
