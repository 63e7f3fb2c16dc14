"""What the pages and the JSON API do, in one place: thin calls into the library, the same as the CLI's.

Every function takes the :class:`~attnscope.serve.files.Workdir` so that model sources and
results given as paths are resolved inside the working folder. Errors are the library's
:class:`~attnscope.errors.AttnscopeError` subclasses (one line, field and value). No torch import.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any, Optional

from attnscope.errors import ConfigError, DomainError
from attnscope.serve.files import Workdir

MAX_COMPARE = 6


def model_source(wd: Workdir, source: Optional[str]) -> str:
    """A model source as the library expects it; paths are resolved inside the working folder."""
    if source is None or not str(source).strip():
        raise ConfigError("give a model: a preset (e.g. llama-3-8b), a bundled model, a folder or config.json in the "
                          "working folder, or a hub id", field="model", value=source)
    s = str(source).strip()
    if len(s) > 300:
        raise ConfigError("too long for a model source", field="model", value=s[:40] + "…")
    from pathlib import Path

    from attnscope.archparse.sources import find_preset, models_dir
    from attnscope.serve.files import PathOutsideError

    simple = "/" not in s and "\\" not in s and not s.startswith((".", "~"))
    if (simple and (models_dir() / s / "config.json").is_file()) or find_preset(s):
        return s  # bundled model or preset: the CLI's resolution order
    if wd.looks_like_path(s):
        return str(wd.resolve(s))
    if Path(s).expanduser().exists():  # a path of the server's own folder, outside the working folder
        raise PathOutsideError(f"outside the working folder {wd.root}: the server only reads and writes there",
                               field="model", value=s)
    return s  # a hub id


def load_arch(wd: Workdir, source: Optional[str]):
    from attnscope.arch import load_arch as _load

    return _load(model_source(wd, source))


def check_context(context: Any) -> Optional[int]:
    if context is None or context == "":
        return None
    try:
        value = int(context)
    except (TypeError, ValueError):
        raise DomainError("must be a positive integer (tokens)", field="context", value=context) from None
    if isinstance(context, bool) or value <= 0 or value != float(context):
        raise DomainError("must be a positive integer (tokens)", field="context", value=value)
    return value


def card(wd: Workdir, model: str, context: Any = None):
    """The TAF card (:class:`attnscope.card.Card`)."""
    from attnscope.card import card as _card

    return _card(load_arch(wd, model), context=check_context(context))


def clean_params(params: Optional[dict[str, Any]]) -> dict[str, Any]:
    """Drop empty form values; keys and values as given otherwise (the recipe validates them)."""
    out = {}
    for k, v in (params or {}).items():
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        out[str(k).strip()] = v.strip() if isinstance(v, str) else v
    return out


def parse_param_lines(text: Optional[str]) -> dict[str, str]:
    """``KEY=VALUE`` lines (or ``;``-separated) as the CLI's ``-p KEY=VALUE``."""
    out: dict[str, str] = {}
    for item in (text or "").replace(";", "\n").splitlines():
        if not item.strip():
            continue
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("expected KEY=VALUE", field="param", value=item.strip())
        out[key.strip()] = val.strip()
    return out


def recipe(wd: Workdir, rid: str, model: Optional[str] = None, context: Any = None,
           params: Optional[dict[str, Any]] = None, *, arch: Any = None):
    """Run one recipe (:class:`attnscope.recipes.RecipeResult`), as ``attnscope recipe``."""
    from attnscope.recipes import get_recipe

    r = get_recipe(rid)
    opts = clean_params(params)
    ctx = check_context(context)
    if ctx is not None:
        if "context" not in r.params:
            raise ConfigError(f"recipe {r.id} takes no context", field="context", value=ctx)
        opts["context"] = ctx
    if arch is None and model is not None and str(model).strip():
        arch = load_arch(wd, model)
    if arch is None and r.needs_model:
        raise ConfigError(f"recipe {r.id} needs a model", field="model", value=model)
    return r(arch if r.needs_model else None, **opts)


def compare(wd: Workdir, models: list[str], recipe_id: Optional[str] = None, context: Any = None,
            params: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Models side by side: card predictions, or one recipe's results (as ``attnscope compare --json``)."""
    from attnscope.card import card as _card

    models = [m.strip() for m in models if m and m.strip()]
    if not 2 <= len(models) <= MAX_COMPARE:
        raise ConfigError(f"give 2 to {MAX_COMPARE} models", field="models", value=models)
    archs = [load_arch(wd, m) for m in models]
    if not recipe_id:
        if clean_params(params):
            raise ConfigError("options need a recipe", field="param", value=sorted(clean_params(params)))
        ctx = check_context(context)
        cards = [_card(a, context=ctx) for a in archs]
        keys = ("gamma_pade", "regime", "d_horizon", "D_f_90", "ntk_alpha", "gamma_random_pred", "K", "T_used")
        return {"models": [c.model for c in cards], "context": ctx, "recipe": None,
                "rows": {k: [c.predictions.get(k) for c in cards] for k in keys},
                "null_reasons": {k: [c.predictions.get("null_reasons", {}).get(k) for c in cards] for k in keys},
                "recipes": {rid: [c.recipes[rid] for c in cards] for rid in cards[0].recipes},
                "cards": cards}
    results = [recipe(wd, recipe_id, context=context, params=params, arch=a) for a in archs]
    return {"models": [r.model for r in results], "context": check_context(context), "recipe": results[0].recipe,
            "title": results[0].title, "results": results}


def fit(wd: Workdir, model: str, context: Any = None, batch: Any = 1, dtype: str = "bf16",
        reserve_gib: Any = 1.0) -> dict[str, Any]:
    """Will it fit? (as ``attnscope fit --json``)."""
    from attnscope.memory import GIB, check_dtype, check_positive_int, estimate_memory, fit_on_gpus
    from attnscope.recipes._layers import resolve_T
    from attnscope.recipes.prices import load_prices

    try:
        batch_i = int(batch)
        reserve = float(reserve_gib)
    except (TypeError, ValueError):
        raise DomainError("batch must be an integer and reserve_gib a number", field="batch",
                          value=f"{batch}, {reserve_gib}") from None
    check_dtype(dtype)
    check_positive_int(batch_i, "batch")
    arch = load_arch(wd, model)
    L, L_src = resolve_T(arch, check_context(context))
    if L is None:
        raise ConfigError("the model's T_train is unknown: pass a context", field="context", value=None)
    table = load_prices(None)
    est = estimate_memory(arch, context=L, batch=batch_i, dtype=dtype)
    fits = fit_on_gpus(est, table.gpus, reserve_gib=reserve)
    cl = getattr(arch, "context_length", None)
    beyond = [f"context {L} exceeds the model's maximum supported context ({cl})"] if cl and L > cl else []
    return {"model": arch.name, "context": L, "context_source": L_src, "batch": batch_i, "dtype": dtype,
            "GiB": {"weights": est.weights_bytes / GIB, "kv_cache": est.kv_bytes / GIB,
                    "activations": est.activation_bytes / GIB, "total": est.total_gib},
            "kv_layers": est.kv_layers, "formulas": est.formulas, "reserve_gib": reserve, "gpus": fits,
            "price_table": table.path, "price_table_date": table.date, "warnings": est.warnings + beyond}


# ----------------------------------------------------------------------------------------- dataset
@lru_cache(maxsize=1)
def scorecard() -> dict[str, Any]:
    """The scorecard of the packaged panel (computed once per process, ~1.5 s)."""
    from attnscope.cli._common import to_jsonable
    from attnscope.dataset import scorecard as _score

    return to_jsonable(_score())


def panel_records() -> list:
    from attnscope.dataset import load_panel

    return load_panel("measurement")


def panel_table() -> list[dict[str, Any]]:
    """One flat row per packaged measurement record (every kind; ``kind`` and ``clean`` say which)."""
    from attnscope.dataset.load import is_clean
    from attnscope.dataset.panel import _kind

    rows = []
    for rec in panel_records():
        m, a = rec.measurement, rec.arch or {}
        seed = rec.provenance.extra.get("seed_cluster_ci95") if rec.provenance else None
        rows.append({
            "key": rec.key, "model_id": rec.model_id, "family": a.get("family"), "corpus": m.corpus,
            "kind": _kind(rec.quality), "clean": is_clean(rec), "gamma": m.gamma,
            "gamma_ci95": [m.gamma_ci95_lo, m.gamma_ci95_hi] if m.gamma_ci95_lo is not None else None,
            "ci_method": m.ci_method, "gamma_seed_ci95": [seed["lo"], seed["hi"]] if seed else None,
            "R2": m.fit.R2 if m.fit else None, "n_points": m.fit.n_points if m.fit else None, "T_eval": m.T_eval,
            "theta": a.get("rope_theta"), "n_params_M": a.get("n_params_M"),
            "gamma_uniform": m.null.gamma_uniform if m.null else None, "gamma_pade": rec.predictions.gamma_pade,
            "quality": list(rec.quality), "source": rec.provenance.source if rec.provenance else None,
        })
    return rows


def panel_record(key: str):
    """The packaged record with this content key (RecordError otherwise)."""
    from attnscope.errors import RecordError

    for rec in panel_records():
        if rec.key == key:
            return rec
    raise RecordError("no such panel record (see /api/dataset/panel for the keys)", field="key", value=key)


# ----------------------------------------------------------------------------------------- results
def load_results(wd: Workdir, rel_path: str, *, context: Any = None):
    """Load a results JSONL / record / atlas / trajectory JSON of the working folder (report Bundle)."""
    from attnscope.report.inputs import load_inputs

    path = wd.resolve(rel_path)
    if not path.is_file():
        from attnscope.errors import RecordError

        raise RecordError("not a file: give a results .jsonl or a record .json", field="path", value=rel_path)
    return load_inputs([str(path)], context=check_context(context))


def save_and_check_upload(wd: Workdir, name: str, data: bytes):
    """Save an upload inside the working folder and load it; an invalid upload is deleted again."""
    from attnscope.errors import AttnscopeError

    path = wd.upload_path(name, data)
    existed = path.exists()
    wd.save_upload(name, data)
    rel = wd.relative(path)
    try:
        bundle = load_results(wd, rel)
    except AttnscopeError:
        if not existed:
            path.unlink(missing_ok=True)
        raise
    return rel, bundle


def report_page(bundle: Any, *, panel: bool = True) -> str:
    """The self-contained HTML report of a bundle (``attnscope report``)."""
    from attnscope.report import render_bundle

    return render_bundle(bundle, panel=panel)


def report_fragments(bundle: Any, *, panel: bool = True) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The report's sections as (id, title, HTML fragment), and the report's warnings."""
    from attnscope.report import build_sections, render_section

    secs = build_sections(bundle, panel=panel)
    return [(s.id, s.title, render_section(s)) for s in secs], list(bundle.warnings)


def results_view(wd: Workdir, rel_path: str, *, panel: bool) -> tuple[list[tuple[str, str, str]], list[str], str]:
    """(sections, warnings, summary) of a results file, cached by path, size and modification time."""
    path = wd.resolve(rel_path)
    st = path.stat()
    return _results_view(str(path), st.st_mtime_ns, st.st_size, panel, wd)


@lru_cache(maxsize=16)
def _results_view(path: str, mtime_ns: int, size: int, panel: bool, wd: Workdir):
    bundle = copy.deepcopy(_bundle(path, mtime_ns, size, wd))  # build_sections adds cards and warnings to it
    sections, warnings = report_fragments(bundle, panel=panel)
    return sections, warnings, "; ".join(i.detail for i in bundle.inputs)


def rules_view(wd: Workdir, rel_path: str) -> Optional[dict[str, Any]]:
    """``attnscope dataset compare`` of a results file's measurement records (None when it holds none)."""
    from attnscope.dataset.compare import compare_records

    path = wd.resolve(rel_path)
    st = path.stat()
    bundle = _bundle(str(path), st.st_mtime_ns, st.st_size, wd)
    return compare_records(bundle.measurements, k=3) if bundle.measurements else None


@lru_cache(maxsize=16)
def _bundle(path: str, mtime_ns: int, size: int, wd: Workdir):
    return load_results(wd, path)


def status_of(exc: Exception) -> int:
    """HTTP status for a user error: 403 outside the folder, 413 too large, 404 unknown thing, else 400."""
    from attnscope.errors import ModelSourceError, RecordError
    from attnscope.serve.files import PathOutsideError, UploadTooLargeError

    if isinstance(exc, PathOutsideError):
        return 403
    if isinstance(exc, UploadTooLargeError):
        return 413
    if isinstance(exc, ModelSourceError) or (isinstance(exc, RecordError) and str(exc.message).startswith("no such")):
        return 404
    return 400
