"""extend-eval: zero-shot context extension through the config's RoPE parameters.

Methods (transformers 5 ``config.rope_parameters``; every variant is a NEW model
built from the edited config with the same weights, so it round-trips through
transformers' own RoPE code and validation):

============  =====================================================================
none          the unscaled model, {"rope_type": "default", "rope_theta": θ}
linear        position interpolation, {"rope_type": "linear", "factor": s}
ntk           TAF NTK base scaling θ' = α·θ with α = ntk_alpha(θ, s·T, T_train=T) (= s:
              keeps γ_Padé at its training value), {"rope_type": "default", "rope_theta": α·θ}
ntk_aware     the community rule α = s^{d/(d−2)} (d = rotary dim), same form
dynamic       dynamic NTK, {"rope_type": "dynamic", "factor": s}; max_position_embeddings = T
yarn          YaRN, {"rope_type": "yarn", "factor": s, "original_max_position_embeddings": T}
============  =====================================================================

A model trained at context T is evaluated at L = T and L = s·T for each factor
s: prose NLL on the second half of each L-token window (beyond T when s ≥ 2) and
the copy proxy at lags given as fractions of L (long lags exceed T). Each method
with factor s is scored at L = s·T (its design length) and at L = T (the cost at
short context). The Pareto question: at each L, is the theory's α_opt (the
``ntk`` point) non-dominated in (prose NLL, copy NLL at the longest lag) among all
methods and an α grid around it?
Note: dynamic NTK in one teacher-forced forward uses the frequencies for the
whole window length (transformers' behaviour), not the growing length of decoding.
"""
from __future__ import annotations

import contextlib
import copy
import time
from typing import Optional, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from attnscope.errors import DomainError, ProtocolError
from attnscope.kv._eval_common import (TaskScore, add_scores, copy_prompts, prose_prompts, provenance, summarize,
                                       task_score, token_nll)

__all__ = ["METHODS", "rope_parameters_for", "scaled_model", "extend_eval", "ExtendEvalResult", "ExtendPoint",
           "check_factor", "check_method"]

METHODS = ("none", "linear", "ntk", "ntk_aware", "dynamic", "yarn")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtendPoint(_Model):
    label: str
    method: str
    factor: Optional[float]
    alpha: Optional[float] = Field(default=None, description="RoPE base multiplier (ntk methods)")
    rope_parameters: dict
    L: int = Field(description="evaluation window length, tokens")
    scores: list[TaskScore]


class ParetoVerdict(_Model):
    L: int
    alpha_opt: float
    alpha_opt_label: str
    on_front: bool
    dominated_by: list[str]
    significantly_dominated_by: list[str] = Field(description="dominating points whose paired advantage on at "
                                                  "least one objective has a 95% CI excluding 0")
    front: list[str]
    objectives: str


class ExtendEvalResult(_Model):
    schema_version: str = "1.0"
    kind: str = "extend_eval"
    key: str
    model_id: str
    settings: dict
    points: list[ExtendPoint]
    pareto: list[ParetoVerdict]
    warnings: list[str]
    provenance: dict


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ProtocolError(f"unknown context-extension method; choose from {', '.join(METHODS)}",
                            field="methods", value=method)
    return method


def check_factor(factor: float) -> float:
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not np.isfinite(factor) or factor <= 1:
        raise DomainError("an extension factor must be a number > 1", field="factors", value=factor)
    return float(factor)


def rope_parameters_for(method: str, factor: Optional[float], *, theta: float, T_train: int, rotary_dim: int,
                        alpha: Optional[float] = None) -> tuple[dict, Optional[float]]:
    """The ``rope_parameters`` dict of a method at ``factor`` (and the base multiplier α for ntk methods)."""
    from attnscope.theory import ntk_alpha, ntk_aware_alpha

    check_method(method)
    if method == "none":
        return {"rope_type": "default", "rope_theta": float(theta)}, None
    s = check_factor(factor)
    if method in ("ntk", "ntk_aware"):
        if alpha is None:
            alpha = ntk_alpha(theta, s * T_train, T_train=T_train) if method == "ntk" else ntk_aware_alpha(s, rotary_dim)
        return {"rope_type": "default", "rope_theta": float(alpha * theta)}, float(alpha)
    if method == "linear":
        return {"rope_type": "linear", "factor": s, "rope_theta": float(theta)}, None
    if method == "dynamic":
        return {"rope_type": "dynamic", "factor": s, "rope_theta": float(theta)}, None
    return {"rope_type": "yarn", "factor": s, "rope_theta": float(theta),
            "original_max_position_embeddings": int(T_train)}, None


def scaled_model(model, rope_parameters: dict, *, T_train: int, factor: Optional[float]):
    """A new model of the same class from a config with ``rope_parameters``, sharing no state with ``model``."""
    cfg = copy.deepcopy(model.config)
    cfg.rope_parameters = dict(rope_parameters)
    # dynamic NTK reads the original context from max_position_embeddings; the others only record it
    dynamic = rope_parameters["rope_type"] == "dynamic"
    cfg.max_position_embeddings = int(T_train if dynamic or factor is None else round(T_train * factor))
    new = type(model)(cfg)
    missing, unexpected = new.load_state_dict(model.state_dict(), strict=False)
    if unexpected or [k for k in missing if "inv_freq" not in k]:
        raise ProtocolError("rebuilding the model with scaled RoPE lost weights", field="rope_parameters",
                            value=sorted(set(missing) | set(unexpected))[:5])
    p = next(model.parameters())
    return new.to(device=p.device, dtype=p.dtype).eval()


def extend_eval(source: str, *, factors: Sequence[float], methods: Sequence[str], prompts: int = 8, seed: int = 0,
                copy_span: int = 16, lag_fractions: Sequence[float] = (0.25, 0.75),
                alpha_grid: Sequence[float] = (0.25, 0.5, 2.0, 4.0), n_boot: int = 1000, batch: int = 4,
                device: str = "cpu", dtype: str = "float32") -> ExtendEvalResult:
    """Evaluate RoPE-scaling methods at 1× and ``factors``× the training context (module docstring).

    Parameters
    ----------
    factors : sequence of float
        Extension factors s > 1 (L = s·T_train, rounded to an integer).
    methods : sequence of str
        From :data:`METHODS`; "none" (the unscaled baseline) is always evaluated.
    lag_fractions : sequence of float
        Copy lags as fractions of L, in (0, 1).
    alpha_grid : sequence of float
        Multipliers of α_opt for the NTK sweep that places α_opt against its neighbours.
    """
    from attnscope.arch import parse_config
    from attnscope.io import content_key
    from attnscope.measure.corpora import special_ids
    from attnscope.probe.loading import load_model

    t0 = time.perf_counter()
    methods = [check_method(m) for m in methods]
    factors = sorted({check_factor(s) for s in factors})
    for fr in lag_fractions:
        if not 0 < fr < 1:
            raise ProtocolError("lag fractions must lie in (0, 1)", field="lag_fractions", value=fr)
    for a in alpha_grid:
        if not a > 0:
            raise ProtocolError("alpha multipliers must be > 0", field="alpha_grid", value=a)
    warnings: list[str] = []
    model, tok, resolved = load_model(source, dtype=dtype, device=device)
    if tok is None:
        raise ProtocolError("extend-eval needs the model's tokenizer", field="source", value=source)
    spec = parse_config(resolved.config, name=resolved.name)
    if spec.rope_theta is None or spec.T_train is None or spec.position_encoding != "rope":
        raise ProtocolError("extend-eval needs a RoPE model with a known training context",
                            field="source", value=source)
    if spec.rope_scaling:
        raise ProtocolError("the model already has RoPE scaling; extend-eval starts from an unscaled model",
                            field="rope_scaling", value=spec.rope_scaling)
    theta, T = float(spec.rope_theta), int(spec.T_train)
    rdim = int(spec.rotary_dim or spec.d_head)
    vocab = min(len(tok), int(resolved.config.get("vocab_size") or len(tok)))
    excl = special_ids(tok, resolved.config)

    lengths = [T] + [int(round(s * T)) for s in factors]
    variants: list[tuple[str, str, Optional[float], Optional[float], dict, list[int]]] = [
        ("none", "none", None, None, rope_parameters_for("none", None, theta=theta, T_train=T, rotary_dim=rdim)[0],
         lengths)]
    for s, L in zip(factors, lengths[1:]):
        for m in methods:
            if m == "none":
                continue
            rp, a = rope_parameters_for(m, s, theta=theta, T_train=T, rotary_dim=rdim)
            variants.append((f"{m}(s={s:g})", m, s, a, rp, [T, L]))
        if "ntk" in methods:
            a_opt = rope_parameters_for("ntk", s, theta=theta, T_train=T, rotary_dim=rdim)[1]
            for mult in alpha_grid:
                if abs(a_opt * mult - 1.0) < 1e-12:
                    continue  # alpha = 1 is the unscaled model, already evaluated as "none"
                rp, a = rope_parameters_for("ntk", s, theta=theta, T_train=T, rotary_dim=rdim, alpha=a_opt * mult)
                variants.append((f"ntk(s={s:g},alpha={a:g})", "ntk_grid", s, a, rp, [L]))

    tasks_at: dict[int, list] = {}
    for L in lengths:
        prose = prose_prompts(tok, resolved.config, T=L, n=prompts, seed=seed, score_from=L // 2, warnings=warnings)
        lags = sorted({min(max(copy_span, int(fr * L)), L - copy_span - 1) for fr in lag_fractions})
        tasks_at[L] = [prose] + [copy_prompts(prose, span=copy_span, lag=g, vocab=vocab, exclude=excl, seed=seed)
                                 for g in lags]

    raw: dict[tuple, dict[str, np.ndarray]] = {}
    for label, method, s, a, rp, Ls in variants:
        m = model if method == "none" else scaled_model(model, rp, T_train=T, factor=s)
        for L in Ls:
            for task in tasks_at[L]:
                nll = token_nll(m, task.ids, batch=batch, context=contextlib.nullcontext)
                add_scores(raw.setdefault((L, task.task, task.lag), {}), label, task, nll)
        if m is not model:
            del m

    scores: dict[tuple[str, int], list[TaskScore]] = {}
    for (L, task, lag), d in raw.items():
        summ = summarize(d, d["none"], n_boot=n_boot, seed=seed)
        for label in summ:
            if "#" not in label:
                scores.setdefault((label, L), []).append(task_score(summ, label, task, lag))
    points = [ExtendPoint(label=label, method=method, factor=s, alpha=a, rope_parameters=rp, L=L,
                          scores=scores[(label, L)])
              for label, method, s, a, rp, Ls in variants for L in Ls]
    pareto = _pareto(points, raw, factors, lengths, "ntk" in methods, n_boot, seed)
    settings = dict(source=source, factors=factors, methods=methods, prompts=prompts, seed=seed, copy_span=copy_span,
                    lag_fractions=list(lag_fractions), alpha_grid=list(alpha_grid), n_boot=n_boot, dtype=dtype,
                    theta=theta, T_train=T, rotary_dim=rdim)
    return ExtendEvalResult(key=content_key(settings), model_id=resolved.name, settings=settings, points=points,
                            pareto=pareto, warnings=warnings,
                            provenance=provenance(source=str(resolved.path or source), device=str(device),
                                                  dtype=dtype, wall_s=time.perf_counter() - t0,
                                                  config_sha256=resolved.config_sha256,
                                                  extra={"bootstrap": f"over prompts, n_boot={n_boot}, seed={seed}",
                                                         "chance_nll_copy": float(np.log(vocab - len(excl)))}))


def _pareto(points: list[ExtendPoint], raw: dict, factors, lengths, have_ntk: bool, n_boot: int,
            seed: int) -> list[ParetoVerdict]:
    """At each extended L: is the ntk (α_opt) point non-dominated in (prose NLL, longest-lag copy NLL)?

    Point estimates decide ``on_front``; ``significantly_dominated_by`` lists the points that are no worse on
    both objectives and better on at least one with a paired 95% CI (bootstrap over prompts) excluding 0.
    """
    out = []
    if not have_ntk:
        return out
    for s, L in zip(factors, lengths[1:]):
        here = [p for p in points if p.L == L]
        label = f"ntk(s={s:g})"
        far = max(g for (LL, task, g) in raw if LL == L and task == "copy")
        prose, copy_far = raw[(L, "prose", None)], raw[(L, "copy", far)]
        objs = {p.label: (float(prose[p.label].mean()), float(copy_far[p.label].mean())) for p in here}
        front = [k for k, v in objs.items() if not any(_dominates(w, v) for w in objs.values())]
        by = [k for k, v in objs.items() if _dominates(v, objs[label])]
        sig = []
        if by:
            d = {f"{k}#{i}": arr[k] - arr[label] for k in by for i, arr in enumerate((prose, copy_far))}
            summ = summarize(d, None, n_boot=n_boot, seed=seed)
            sig = [k for k in by if any(summ[f"{k}#{i}"][0].ci95_hi is not None and summ[f"{k}#{i}"][0].ci95_hi < 0
                                        for i in (0, 1))]
        alpha = next(p.alpha for p in here if p.label == label)
        out.append(ParetoVerdict(L=L, alpha_opt=float(alpha), alpha_opt_label=label, on_front=not by,
                                 dominated_by=by, significantly_dominated_by=sig, front=front,
                                 objectives=f"minimise (mean prose NLL on the second half, mean copy NLL at lag "
                                            f"{far}); point estimates decide the front"))
    return out


def _dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[0] and a[1] <= b[1] and (a[0] < b[0] or a[1] < b[1])
