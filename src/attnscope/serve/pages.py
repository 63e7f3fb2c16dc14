"""The HTML pages: Profile, Compare, Recipes, Dataset, Results, Ask (server-rendered, no external resources).

Each page is a GET form whose answer is rendered on the same page, so every result has a
shareable URL. Cards, measurements and reports reuse the report's section renderers
(:mod:`attnscope.report`); numbers carry their CI and a provenance panel one click away.
A user error re-renders the page with a one-line message (status 400/403/404/413).
"""
from __future__ import annotations

import datetime as _dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from attnscope.errors import AttnscopeError
from attnscope.serve import service as svc

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).parent / "templates"
NAV = [("/profile", "Profile"), ("/compare", "Compare"), ("/recipes", "Recipes"), ("/dataset", "Dataset"),
       ("/results", "Results"), ("/ask", "Ask")]
ASK_EXAMPLES = ["Will Llama-3-8B serve 32K context?", "Cheapest GPU to serve Llama-70B at 100M tokens/day?",
                "Does Qwen2.5-7B fit at 32K context in nf4 with batch 4?", "What is the γ of pythia-160m?",
                "With a $20k budget on 8 H100-SXM GPUs, what can I train?"]


# ------------------------------------------------------------------------------------------ templating
def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def _tojson_pretty(obj: Any) -> str:
    from attnscope.cli._common import to_jsonable

    return json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, default=str)


def _schema_type(s: Optional[dict[str, Any]]) -> str:
    s = s or {}
    if "anyOf" in s:
        return " | ".join(_schema_type(x) for x in s["anyOf"])
    return str(s.get("type", s.get("$ref", "").rsplit("/", 1)[-1] or "any"))


def _resolve_refs(obj: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    if depth > 6:
        return obj
    if isinstance(obj, dict):
        if "$ref" in obj:
            name = obj["$ref"].rsplit("/", 1)[-1]
            return _resolve_refs(spec.get("components", {}).get("schemas", {}).get(name, obj), spec, depth + 1)
        return {k: _resolve_refs(v, spec, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve_refs(v, spec, depth + 1) for v in obj]
    return obj


@lru_cache(maxsize=1)
def environment():
    """The jinja2 environment of the pages (autoescaping; the report's number filters)."""
    import jinja2

    from attnscope.report import fmt
    from attnscope.report.render import _pretty

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=fmt.num, ci=fmt.ci, tokens=fmt.tokens, pct=fmt.pct, badge_class=fmt.badge_class,
                       pretty=_pretty, columns=_columns, tojson_pretty=_tojson_pretty, schema_type=_schema_type,
                       resolve_refs=_resolve_refs,
                       datetime=lambda t: _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M"))
    return env


def render(request: Request, template: str, *, title: str, active: str = "", lead: str = "",
           error: Optional[Exception] = None, status: int = 200, **ctx: Any) -> HTMLResponse:
    import attnscope

    if error is not None:
        status = svc.status_of(error)
        ctx["error"] = error.one_line() if isinstance(error, AttnscopeError) else str(error)
    ctx.setdefault("error", None)
    ctx.setdefault("error_title", None)
    html = environment().get_template(template).render(
        title=title, lead=lead, nav=NAV, active=active, version=getattr(attnscope, "__version__", "?"),
        workdir=str(request.app.state.workdir.root), **ctx)
    return HTMLResponse(html, status_code=status)


@lru_cache(maxsize=1)
def model_choices() -> tuple[dict[str, str], ...]:
    """Presets and bundled trained models for the model inputs' suggestions."""
    from attnscope.serve.ask import known_models

    return tuple({"name": m.name, "label": next((a for a in m.aliases if "/" in a), m.name)} for m in known_models())


def _section_html(section: Any) -> str:
    from attnscope.report import render_section

    return render_section(section)


# ------------------------------------------------------------------------------------------ pages
TILES = [
    ("/profile", "Profile", "The TAF card of any model from its config: γ_Padé, regime, horizons, KV window, "
     "thermodynamics, recipe verdicts, constants with provenance.", "llama-3-8b at 32K"),
    ("/compare", "Compare", "Two or three models side by side, on their card or on one recipe.",
     "Llama-3-8B vs Qwen2.5-7B vs Mistral-7B on X-2"),
    ("/recipes", "Recipes", "Practical questions (long context, cheapest GPU, budget, KV compression, …) with the "
     "audit trail of every step.", "X-5: cheapest GPU for 100M tokens/day"),
    ("/dataset", "Dataset", "The reference panel of published measurements: sortable table, phase diagram, "
     "scorecard of every TAF claim.", "filter to clean text runs"),
    ("/results", "Results", "Your results JSONL, atlas or trajectory JSON as a report, from the working folder "
     "or uploaded.", "results.jsonl"),
    ("/ask", "Ask", "A plain-English question becomes one recipe call, and the page shows what it understood.",
     "“Will Llama-3-8B serve 32K context?”"),
]


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return render(request, "index.html", title="attnscope", tiles=TILES,
                  lead="Predict (from config.json) and measure (from weights) how transformer LMs attend. "
                       "Local, offline, every number with its CI and provenance.")


@router.get("/profile", response_class=HTMLResponse)
def profile(request: Request, model: Optional[str] = None, context: Optional[str] = None) -> HTMLResponse:
    ctx: dict[str, Any] = dict(model=model, context=context, models=model_choices(), card_html=None)
    lead = ("The TAF card of a preset, a bundled model, a config.json or model folder in the working folder, "
            "or a hub id.")
    try:
        if model:
            from attnscope.report.sections import card_section

            ctx["card_html"] = _section_html(card_section(svc.card(request.app.state.workdir, model, context), 0))
    except AttnscopeError as exc:
        return render(request, "profile.html", title="Profile", active="/profile", lead=lead, error=exc,
                      presets=_presets(), bundled=_bundled(), **ctx)
    return render(request, "profile.html", title="Profile", active="/profile", lead=lead, presets=_presets(),
                  bundled=_bundled(), **ctx)


@lru_cache(maxsize=1)
def _presets() -> tuple:
    from attnscope.arch import list_presets

    return tuple(list_presets())


def _bundled() -> list[str]:
    from attnscope.archparse.sources import models_dir

    d = models_dir()
    return sorted(p.name for p in d.iterdir() if (p / "config.json").is_file()) if d.is_dir() else []


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, m1: Optional[str] = None, m2: Optional[str] = None, m3: Optional[str] = None,
            recipe: Optional[str] = None, context: Optional[str] = None, params: Optional[str] = None) -> HTMLResponse:
    from attnscope.recipes import RECIPES

    models = [m for m in (m1, m2, m3) if m and m.strip()]
    ctx: dict[str, Any] = dict(m=[m1, m2, m3], recipe=recipe, context=context, params=params, models=model_choices(),
                               recipes=list(RECIPES.values()), out=None, model_args=models)
    lead = "Two or three models side by side: their card predictions, or one recipe's verdicts with audit trails."
    error = None
    if m1 or m2:
        try:
            ctx["out"] = svc.compare(request.app.state.workdir, models, recipe or None, context,
                                     svc.parse_param_lines(params))
        except AttnscopeError as exc:
            error = exc
    return render(request, "compare.html", title="Compare", active="/compare", lead=lead, error=error, **ctx)


@router.get("/recipes", response_class=HTMLResponse)
def recipes(request: Request, id: Optional[str] = None, model: Optional[str] = None, context: Optional[str] = None,
            run: Optional[str] = None) -> HTMLResponse:
    from attnscope.recipes import RECIPES, get_recipe

    ctx: dict[str, Any] = dict(recipes=list(RECIPES.values()), sel=None, model=model, models=model_choices(),
                               values={}, result=None)
    lead = "Every recipe as a form; each answer comes with its audit trail (formula, inputs and value of every step)."
    error = None
    try:
        if id:
            sel = ctx["sel"] = get_recipe(id)
            values = {k[2:]: v for k, v in request.query_params.items() if k.startswith("p_") and v.strip()}
            if context and "context" not in values:
                values["context"] = context
            ctx["values"] = values
            if run:
                opts = {k: v for k, v in values.items() if k != "context"}
                ctx["result"] = svc.recipe(request.app.state.workdir, sel.id, model if sel.needs_model else None,
                                           values.get("context"), opts)
    except AttnscopeError as exc:
        error = exc
    return render(request, "recipes.html", title="Recipes", active="/recipes", lead=lead, error=error, **ctx)


@router.get("/dataset", response_class=HTMLResponse)
def dataset(request: Request) -> HTMLResponse:
    from attnscope.dataset.report import SECTIONS
    from attnscope.report.panel import ATTRIBUTION

    rows = svc.panel_table()
    phase = phase_html()
    score = svc.scorecard()
    claims = [(k, t, score[k]) for k, t in SECTIONS if k in score]
    return render(request, "dataset.html", title="Dataset",
                  lead="The reference panel (published TAF measurements, re-derived), its phase diagram and the "
                       "scorecard of every TAF claim.", active="/dataset", rows=rows,
                  corpora=sorted({r["corpus"] for r in rows}), kinds=sorted({r["kind"] for r in rows}),
                  phase_html=phase, score=score, claims=claims, attribution=ATTRIBUTION)


@lru_cache(maxsize=1)
def phase_html() -> str:
    """The panel's phase diagram (the report's panel section with no models of its own), rendered once."""
    from attnscope.report.inputs import Bundle
    from attnscope.report.panel import load_reference_panel, panel_view
    from attnscope.report.sections_more import panel_section

    records, note, is_clean = load_reference_panel()
    return _section_html(panel_section(panel_view(records, note=note, is_clean=is_clean), Bundle()))


@router.get("/dataset/record/{key}", response_class=HTMLResponse)
def dataset_record(request: Request, key: str) -> HTMLResponse:
    import dataclasses

    from attnscope.dataset.rederive import rederive_record
    from attnscope.report.panel import ATTRIBUTION
    from attnscope.report.sections import measurement_section

    try:
        rec = svc.panel_record(key)
    except AttnscopeError as exc:
        return render(request, "record.html", title="Panel record", active="/dataset", error=exc, key=key,
                      section_html="", rederivation=None, attribution=ATTRIBUTION)
    rd = dataclasses.asdict(rederive_record(rec, n_boot=500))
    return render(request, "record.html", title=f"{rec.model_id} ({rec.measurement.corpus})", active="/dataset",
                  lead=f"Panel record {key[:12]}…: A(d) with its CIs, the fit, the null and the provenance.", key=key,
                  section_html=_section_html(measurement_section(rec, 0)), rederivation=rd, attribution=ATTRIBUTION)


def _results_ctx(request: Request, path: Optional[str], panel: bool) -> dict[str, Any]:
    wd = request.app.state.workdir
    return dict(path=path, panel=panel, files=wd.list_results(), sections=None, summary="", rules=None,
                max_mib=f"{wd.max_upload_bytes / 2**20:g}")


@router.get("/results", response_class=HTMLResponse)
def results(request: Request, path: Optional[str] = None, panel: Optional[str] = None) -> HTMLResponse:
    show_panel = panel not in (None, "", "0", "false")
    ctx = _results_ctx(request, path, show_panel if path else True)
    lead = "Open a results JSONL, atlas or record JSON, or trajectory JSON from the working folder, or upload one."
    error = None
    if path:
        try:
            ctx["sections"], _warnings, ctx["summary"] = svc.results_view(request.app.state.workdir, path,
                                                                          panel=show_panel)
            ctx["rules"] = svc.rules_view(request.app.state.workdir, path)
        except AttnscopeError as exc:
            error = exc
    return render(request, "results.html", title="Results", active="/results", lead=lead, error=error, **ctx)


@router.post("/results/upload", response_class=HTMLResponse)
async def results_upload(request: Request):
    from urllib.parse import quote

    from starlette.concurrency import run_in_threadpool

    from attnscope.serve.upload import read_upload

    wd = request.app.state.workdir
    try:
        name, data, _ = await read_upload(request, wd)
        rel, _bundle = await run_in_threadpool(svc.save_and_check_upload, wd, name, data)
    except AttnscopeError as exc:
        ctx = await run_in_threadpool(_results_ctx, request, None, True)
        return render(request, "results.html", title="Results", active="/results", error=exc,
                      error_title="Upload refused", **ctx)
    return RedirectResponse(f"/results?path={quote(rel)}&panel=1", status_code=303)


@router.get("/ask", response_class=HTMLResponse)
def ask(request: Request, q: Optional[str] = None) -> HTMLResponse:
    from attnscope.serve.api import run_plan
    from attnscope.serve.ask import INTENTS, parse_question

    ctx: dict[str, Any] = dict(q=q, plan=None, result=None, card_html=None, examples=ASK_EXAMPLES, intents=INTENTS)
    lead = "A plain-English question becomes one recipe call; the page shows what it understood and from which words."
    error = None
    if q:
        try:
            plan = ctx["plan"] = parse_question(q)  # shown even when the call then fails
            result = ctx["result"] = run_plan(request.app.state.workdir, plan)
            if plan.action == "card":
                from attnscope.report.sections import card_section

                ctx["card_html"] = _section_html(card_section(result, 0))
        except AttnscopeError as exc:
            error = exc
    return render(request, "ask.html", title="Ask", active="/ask", lead=lead, error=error, **ctx)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", title="JSON API", active="", spec=request.app.openapi(),
                  lead="Every CLI command as a JSON endpoint under /api.")
