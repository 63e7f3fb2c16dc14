"""kv-eval: quality vs KV budget for each policy, the measured knee, and the predicted D_f.

Pipeline (one screen): load → prompts (prose + copy at each lag) → for each
(policy, budget) simulate the policy's visible keys once (content-independent,
so one [T, T] mask per layer, identical to token-by-token decoding with the
evicting cache — tests/kv check it) → one teacher-forced forward per batch of
prompts → per-prompt NLL → bootstrap over prompts, paired with the full cache.

The full cache is evaluated WITHOUT masks (nothing is evicted), i.e. it is the
plain model forward: its numbers equal the model's plain evaluation exactly.

Measured knee (per uniform-budget policy and task): the smallest tested budget B
whose mean ΔNLL vs full has recovered a fraction f of the loss gap at the
smallest tested budget, ΔNLL(B) ≤ (1 − f)·ΔNLL(B_min) — the loss analogue of D_f,
which keeps a fraction f of the attention mass. Its CI comes from the same
bootstrap over prompts. Predicted: budget = n_sink + D_f(γ, T−1, f) + 1.
"""
from __future__ import annotations

import contextlib
import time
from typing import Optional, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from attnscope.errors import ProtocolError
from attnscope.kv._eval_common import (TaskScore, add_scores, copy_prompts, lags_checked, prose_prompts,
                                       provenance, summarize, task_score, token_nll)

__all__ = ["kv_eval", "KVEvalResult", "KVPoint", "KVKnee", "UNIFORM_POLICIES"]

UNIFORM_POLICIES = ("sink_window", "soft_decay", "random")  # swept over --budgets


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KVPoint(_Model):
    """One (policy, budget) configuration and its scores on every task."""

    label: str
    policy: str
    budget_mean: float = Field(description="mean over layers of the keys a decoded token attends to")
    budgets_per_layer: list[int]
    fraction: Optional[float] = Field(default=None, description="gamma_window: attention-mass fraction f")
    kv_fraction_of_full: float = Field(description="stored KV at the end of the context / full cache")
    scores: list[TaskScore]


class KVKnee(_Model):
    policy: str
    task: str
    lag: Optional[int] = None
    measured_budget: Optional[int] = Field(description="None when the smallest budget loses nothing")
    status: str = Field(description="'knee' | 'not reached below T (knee in (max budget, T])' | "
                                    "'no loss at the smallest budget'")
    measured_ci95_lo: Optional[float] = None
    measured_ci95_hi: Optional[float] = None
    predicted_budget: float = Field(description="n_sink + D_f + 1 (mean over layers)")
    definition: str


class KVEvalResult(_Model):
    schema_version: str = "1.0"
    kind: str = "kv_eval"
    key: str
    model_id: str
    settings: dict
    predictions: dict
    points: list[KVPoint]
    knees: list[KVKnee]
    warnings: list[str]
    provenance: dict


def _gammas(spec, n_layers: int, gamma: str, gamma_record: Optional[str], warnings: list[str]):
    """Per-layer γ and its source: the Padé prediction at T_train, or a measurement record."""
    from attnscope.kv.gamma_window import gammas_from_record
    from attnscope.theory import gamma_pade

    if gamma_record is not None:
        g = gammas_from_record(gamma_record)
        if len(g) != n_layers:
            raise ProtocolError(f"the record has {len(g)} layers, the model {n_layers}", field="gamma_record",
                                value=gamma_record)
        return g, "measurement.per_layer"
    if gamma != "pade":
        raise ProtocolError("gamma must be 'pade' (or pass a measurement record)", field="gamma", value=gamma)
    if spec.rope_theta is None or spec.T_train is None:
        raise ProtocolError("gamma_pade needs a RoPE theta and a training context in the config; "
                            "pass a measurement record instead", field="gamma", value=gamma)
    return [gamma_pade(spec.rope_theta, spec.T_train)] * n_layers, \
        f"gamma_pade(theta={spec.rope_theta:g}, T_train={spec.T_train})"


def _knee(deltas: np.ndarray, budgets: Sequence[int], f: float) -> np.ndarray:
    """Smallest budget with Δ(B) ≤ (1 − f)·Δ(B_min); deltas [..., n_budgets] sorted by budget.

    The last budget must be T (the full cache, Δ = 0), so a knee always exists
    when Δ(B_min) > 0; NaN where the smallest budget loses nothing.
    """
    target = (1 - f) * deltas[..., :1]
    ok = deltas <= target
    ok[..., -1] = True
    first = np.argmax(ok, axis=-1)
    out = np.asarray(budgets, dtype=float)[first]
    return np.where(deltas[..., 0] > 0, out, np.nan)


def kv_eval(source: str, *, policies: Sequence[str], budgets: Sequence[int], fractions: Sequence[float] = (0.9,),
            T: Optional[int] = None, prompts: int = 16, seed: int = 0, n_sink: int = 4, f: float = 0.9,
            copy_span: int = 16, lags: Sequence[int] = (), score_from: Optional[int] = None,
            gamma: str = "pade", gamma_record: Optional[str] = None, n_boot: int = 1000, batch: int = 8,
            device: str = "cpu", dtype: str = "float32") -> KVEvalResult:
    """Evaluate KV policies on held-out prose and the copy proxy; see the module docstring.

    Parameters
    ----------
    source : str
        Bundled model, folder, preset/hub id with weights.
    policies : sequence of str
        Names from :data:`attnscope.kv.POLICIES` ("full" is always evaluated, as the reference).
    budgets : sequence of int
        Budgets (keys a decoded token attends to) for sink_window, soft_decay and random.
    fractions : sequence of float
        Attention-mass fractions f of the gamma_window points (and of random at the same per-layer budgets).
    T : int, optional
        Window length in tokens; default the model's training context (recorded as a warning).
    prompts : int
        Prompts per task (>= 2); distinct held-out prose windows.
    f : float
        Fraction used for the predicted D_f and the measured knee.
    lags : sequence of int
        Copy-task lags (tokens between the two copies).
    score_from : int, optional
        First scored prose position; default T // 2 (where small budgets bind).
    gamma, gamma_record
        γ source for gamma_window and soft_decay: "pade" or a MeasurementRecord file.
    """
    from attnscope.arch import parse_config
    from attnscope.io import content_key
    from attnscope.kv import POLICIES, GammaWindow, make_policy
    from attnscope.kv.cache import kv_backend, n_attention_layers
    from attnscope.kv.base import validate_budget
    from attnscope.measure.corpora import special_ids
    from attnscope.probe.loading import load_model
    from attnscope.theory import kv_window

    t0 = time.perf_counter()
    for p in policies:
        if p not in POLICIES:
            raise ProtocolError(f"unknown KV policy; choose from {', '.join(POLICIES)}", field="policies", value=p)
    budgets = sorted({validate_budget(b, n_sink=n_sink, field="budgets") for b in budgets})
    for fr in fractions:
        if not 0 < fr <= 1:
            raise ProtocolError("fractions must lie in (0, 1]", field="fractions", value=fr)
    if not 0 < f < 1:
        raise ProtocolError("f must lie in (0, 1)", field="f", value=f)
    warnings: list[str] = []
    model, tok, resolved = load_model(source, dtype=dtype, device=device)
    if tok is None:
        raise ProtocolError("kv-eval needs the model's tokenizer for the held-out prose", field="source", value=source)
    spec = parse_config(resolved.config, name=resolved.name)
    n_layers = n_attention_layers(model)
    if T is None:
        if spec.T_train is None:
            raise ProtocolError("the config has no training context; pass --T", field="T", value=None)
        T = int(spec.T_train)
        warnings.append(f"T not given: used the training context T_train = {T}")
    elif spec.T_train is not None and T > spec.T_train:
        warnings.append(f"T = {T} exceeds the training context {spec.T_train}: positions beyond it are "
                        "out of distribution (kept keys keep their original positions)")
    if max(budgets) > T:
        raise ProtocolError(f"budgets must not exceed T = {T}", field="budgets", value=max(budgets))
    score_from = T // 2 if score_from is None else score_from
    gammas, g_src = _gammas(spec, n_layers, gamma, gamma_record, warnings)

    prose = prose_prompts(tok, resolved.config, T=T, n=prompts, seed=seed, score_from=score_from, warnings=warnings)
    vocab = min(len(tok), int(resolved.config.get("vocab_size") or len(tok)))
    excl = special_ids(tok, resolved.config)
    tasks = [prose] + [copy_prompts(prose, span=copy_span, lag=g, vocab=vocab, exclude=excl, seed=seed)
                       for g in lags_checked(lags, T=T, span=copy_span)]

    configs: list[tuple[str, object, Optional[float]]] = [("full", make_policy("full"), None)]
    for name in policies:
        if name in UNIFORM_POLICIES:
            extra = {"gammas": gammas, "gamma_source": g_src} if name == "soft_decay" else {}
            extra |= {"seed": seed} if name == "random" else {}
            configs += [(f"{name}@{b}", make_policy(name, budget=b, n_sink=n_sink, **extra), None) for b in budgets]
        elif name == "gamma_window":
            for fr in fractions:
                gw = GammaWindow(gammas=gammas, f=fr, n_sink=n_sink, gamma_source=g_src).bind(n_layers, T)
                configs.append((f"gamma_window@f={fr:g}", gw, fr))
                if "random" in policies:
                    configs.append((f"random@gamma_window(f={fr:g})",
                                    make_policy("random", budget=gw.budgets(), n_sink=n_sink, seed=seed), fr))

    per_task: dict[tuple, dict[str, np.ndarray]] = {}
    meta = {}
    for label, pol, fr in configs:
        pol.bind(n_layers, T)
        masks = pol.simulate(T)
        ctx = (lambda m=masks: kv_backend(model, masks=m)) if masks is not None else contextlib.nullcontext
        meta[label] = (pol, fr)
        for task in tasks:
            nll = token_nll(model, task.ids, batch=batch, context=ctx)
            add_scores(per_task.setdefault((task.task, task.lag), {}), label, task, nll)

    scores: dict[str, list[TaskScore]] = {label: [] for label, _, _ in configs}
    deltas_by_task: dict[tuple, dict[str, np.ndarray]] = {}
    for (task, lag), d in per_task.items():
        ref = d["full"]
        summ = summarize(d, ref, n_boot=n_boot, seed=seed)
        deltas_by_task[(task, lag)] = {k: v - ref for k, v in d.items() if "#" not in k}
        for label in scores:
            scores[label].append(task_score(summ, label, task, lag))

    points = []
    for label, (pol, fr) in meta.items():
        b = [x if x is not None else T for x in pol.budgets()]
        stored = [T if pol.capacity(l) is None else min(pol.capacity(l), T) for l in range(n_layers)]
        points.append(KVPoint(label=label, policy=pol.name, budget_mean=float(np.mean(b)), budgets_per_layer=b,
                              fraction=fr, kv_fraction_of_full=float(np.mean(stored)) / T,
                              scores=scores[label]))

    D_f = [int(kv_window(g, T - 1, f)) for g in gammas]
    predicted = float(np.mean([n_sink + D + 1 for D in D_f]))
    knees = _knees(deltas_by_task, policies, budgets, T, f, predicted, n_boot, seed)
    settings = dict(source=source, policies=list(policies), budgets=budgets, fractions=list(fractions), T=T,
                    prompts=prompts, seed=seed, n_sink=n_sink, f=f, copy_span=copy_span, lags=list(lags),
                    score_from=score_from, gamma=gamma, gamma_record=gamma_record, n_boot=n_boot, dtype=dtype)
    predictions = {"gamma_per_layer": gammas, "gamma_source": g_src, "N": T - 1, "f": f, "D_f_per_layer": D_f,
                   "predicted_budget": predicted,
                   "chance_nll_copy": float(np.log(vocab - len(excl))),
                   "position_handling": "original positions kept (no re-rotation)"}
    return KVEvalResult(key=content_key(settings), model_id=resolved.name, settings=settings,
                        predictions=predictions, points=points, knees=knees, warnings=warnings,
                        provenance=provenance(source=str(resolved.path or source), device=str(device), dtype=dtype,
                                              wall_s=time.perf_counter() - t0,
                                              config_sha256=resolved.config_sha256,
                                              extra={"bootstrap": f"over prompts, n_boot={n_boot}, seed={seed}"}))


def _knees(deltas_by_task, policies, budgets, T, f, predicted, n_boot, seed) -> list[KVKnee]:
    from attnscope.measure.bootstrap import cluster_bootstrap, weighted_mean

    definition = (f"smallest budget with mean dNLL <= (1 - {f:g}) * dNLL(smallest budget), over the tested budgets "
                  f"and T = {T} (the full cache, dNLL = 0)")
    grid = list(budgets) + ([T] if budgets[-1] < T else [])
    out = []
    for (task, lag), d in deltas_by_task.items():
        for name in policies:
            if name not in UNIFORM_POLICIES or len(budgets) < 2:
                continue
            D = np.stack([d[f"{name}@{b}"] for b in budgets], axis=1)  # [P, n_budgets]
            if len(grid) > len(budgets):
                D = np.concatenate([D, np.zeros((D.shape[0], 1))], axis=1)
            res = cluster_bootstrap(lambda w: _knee(weighted_mean(w, D), grid, f)[:, None], D.shape[0],
                                    n_boot=n_boot, rng=np.random.default_rng(seed), method="percentile")
            est = res.estimate[0]
            status = ("no loss at the smallest budget" if not np.isfinite(est) else
                      "not reached below T (knee in (max budget, T])" if est == T and budgets[-1] < T else "knee")
            out.append(KVKnee(policy=name, task=task, lag=lag,
                              measured_budget=int(est) if np.isfinite(est) else None, status=status,
                              measured_ci95_lo=_fin(res.lo[0]), measured_ci95_hi=_fin(res.hi[0]),
                              predicted_budget=predicted, definition=definition))
    return out


def _fin(x) -> Optional[float]:
    return float(x) if np.isfinite(x) else None


def point_table(result: KVEvalResult) -> list[dict]:
    """Flat rows (label, budget, task, lag, nll, CI, dNLL, CI) for tables and plots."""
    rows = []
    for p in result.points:
        for s in p.scores:
            rows.append({"label": p.label, "policy": p.policy, "budget": p.budget_mean, "fraction": p.fraction,
                         "task": s.task, "lag": s.lag, "nll": s.nll.mean, "nll_lo": s.nll.ci95_lo,
                         "nll_hi": s.nll.ci95_hi, "ppl": s.ppl.mean,
                         "dnll": s.delta_nll_vs_ref.mean if s.delta_nll_vs_ref else None,
                         "dnll_lo": s.delta_nll_vs_ref.ci95_lo if s.delta_nll_vs_ref else None,
                         "dnll_hi": s.delta_nll_vs_ref.ci95_hi if s.delta_nll_vs_ref else None,
                         "null": s.null_first_copy_nll.mean if s.null_first_copy_nll else None})
    return rows

