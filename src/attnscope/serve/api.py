"""The JSON API under ``/api``: one endpoint per CLI command, same arguments, same JSON.

=====================================  =========================================
endpoint                               CLI equivalent
=====================================  =========================================
GET  /api/presets                      ``attnscope presets --json``
GET  /api/card?model=&context=         ``attnscope card MODEL --context N --json``
GET  /api/fit?model=&context=&...      ``attnscope fit MODEL ... --json``
GET  /api/recipes                      ``attnscope recipe --list --json``
POST /api/recipes/{id}                 ``attnscope recipe ID MODEL -p K=V --json``
POST /api/compare                      ``attnscope compare M1 M2 [--recipe X] --json``
GET  /api/dataset/panel                ``attnscope dataset list --all --json``
GET  /api/dataset/record/{key}         ``attnscope dataset show MODEL --json`` (one record)
GET  /api/dataset/score                ``attnscope dataset score --json``
POST /api/dataset/compare              ``attnscope dataset compare PATH --json``
GET  /api/results                      (the result files of the working folder)
GET  /api/report?path=                 ``attnscope report PATH -o -`` (HTML)
POST /api/results/upload               (upload a results file into the working folder)
GET  /api/ask?q=                       (plain-English question -> recipe call)
GET  /api/health                       (version and working folder)
=====================================  =========================================

Errors: ``{"error": one line, "field", "value"}`` with 400 (bad input), 403 (path outside
the working folder), 404 (unknown model / file / key), 413 (upload over the cap).
"""
from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from attnscope.cli._common import to_jsonable
from attnscope.serve import service as svc

router = APIRouter(prefix="/api", tags=["api"])

Scalar = Any  # str | int | float | bool (validated by the recipe)


class RecipeRequest(BaseModel):
    """Arguments of ``attnscope recipe ID MODEL --context N -p KEY=VALUE``."""

    model: Optional[str] = Field(None, description="Preset, bundled model, path in the working folder, or hub id",
                                 examples=["llama-3-8b"])
    context: Optional[int] = Field(None, description="Context in tokens (recipes that take one)", examples=[32768])
    params: dict[str, Scalar] = Field(default_factory=dict, description="Recipe options (see GET /api/recipes)")


class CompareRequest(BaseModel):
    """Arguments of ``attnscope compare M1 M2 ... [--recipe X] [--context N] [-p K=V]``."""

    models: list[str] = Field(..., description="2 to 6 model sources", examples=[["llama-3-8b", "qwen2.5-7b"]])
    recipe: Optional[str] = Field(None, description="Recipe id (X-N); none compares the card predictions",
                                  examples=["X-2"])
    context: Optional[int] = Field(None, examples=[32768])
    params: dict[str, Scalar] = Field(default_factory=dict)


class PathRequest(BaseModel):
    path: str = Field(..., description="A file inside the working folder", examples=["results.jsonl"])
    k: int = Field(3, ge=1, le=20, description="nearest panel models to list")


def _wd(request: Request):
    return request.app.state.workdir


@router.get("/health", summary="Server status")
def health(request: Request) -> dict[str, Any]:
    import attnscope

    return {"status": "ok", "version": getattr(attnscope, "__version__", "?"), "workdir": _wd(request).as_dict()}


@router.get("/presets", summary="Bundled presets (attnscope presets --json)")
def presets() -> list[dict[str, Any]]:
    from attnscope.arch import list_presets

    return to_jsonable(list_presets())


@router.get("/card", summary="TAF card of a model (attnscope card --json)")
def card(request: Request, model: str = Query(..., examples=["llama-3-8b"]),
         context: Optional[int] = Query(None, description="tokens; default T_train")) -> dict[str, Any]:
    return to_jsonable(svc.card(_wd(request), model, context))


@router.get("/fit", summary="Will it fit? Memory per GPU (attnscope fit --json)")
def fit(request: Request, model: str = Query(..., examples=["llama-3-8b"]), context: Optional[int] = None,
        batch: int = 1, dtype: str = "bf16", reserve_gib: float = 1.0) -> dict[str, Any]:
    return to_jsonable(svc.fit(_wd(request), model, context, batch, dtype, reserve_gib))


@router.get("/recipes", summary="Every recipe with its options (attnscope recipe --list --json)")
def recipes() -> list[dict[str, Any]]:
    from attnscope.recipes import RECIPES

    return [{"id": r.id, "title": r.title, "question": r.question, "needs_model": r.needs_model,
             "uses_prices": r.uses_prices, "fixes": r.fixes, "example": r.example,
             "params": {k: {"type": p.type.__name__, "default": p.default, "help": p.help, "minimum": p.minimum,
                            "maximum": p.maximum} for k, p in r.params.items()}} for r in RECIPES.values()]


@router.post("/recipes/{recipe_id}", summary="Run a recipe with its audit trail (attnscope recipe --json)")
def run_recipe(request: Request, recipe_id: str, body: RecipeRequest) -> dict[str, Any]:
    return to_jsonable(svc.recipe(_wd(request), recipe_id, body.model, body.context, body.params))


@router.post("/compare", summary="Models side by side (attnscope compare --json)")
def compare(request: Request, body: CompareRequest) -> dict[str, Any]:
    out = svc.compare(_wd(request), body.models, body.recipe, body.context, body.params)
    out.pop("cards", None)
    return to_jsonable(out)


@router.get("/dataset/panel", summary="The reference panel, one row per record (attnscope dataset list --all)")
def dataset_panel(kind: Optional[str] = Query(None, description="main | kaggle | partial | instruct_pair | "
                                                                "layerwise"),
                  clean: Optional[bool] = None) -> dict[str, Any]:
    rows = [r for r in svc.panel_table() if (kind is None or r["kind"] == kind)
            and (clean is None or r["clean"] == clean)]
    return {"n": len(rows), "rows": to_jsonable(rows),
            "attribution": "karlesmarin/tafagent data/ (Apache-2.0, Copyright 2026 Carles Marin)"}


@router.get("/dataset/record/{key}", summary="One panel record, verbatim")
def dataset_record(key: str) -> dict[str, Any]:
    return svc.panel_record(key).model_dump(mode="json")


@router.get("/dataset/score", summary="Scorecard of every TAF claim (attnscope dataset score --json)")
def dataset_score() -> dict[str, Any]:
    return svc.scorecard()


@router.post("/dataset/compare", summary="Your records against the panel (attnscope dataset compare --json)")
def dataset_compare(request: Request, body: PathRequest) -> dict[str, Any]:
    from attnscope.dataset.compare import compare_records, read_user_records

    path = _wd(request).resolve(body.path)
    return to_jsonable(compare_records(read_user_records(path), k=body.k))


@router.get("/results", summary="Result and record files in the working folder")
def results(request: Request) -> dict[str, Any]:
    wd = _wd(request)
    return {"workdir": str(wd.root), "files": to_jsonable(wd.list_results())}


@router.get("/report", response_class=HTMLResponse, summary="Self-contained HTML report of a file (attnscope report)")
def report(request: Request, path: str = Query(..., examples=["results.jsonl"]), panel: bool = True,
           context: Optional[int] = None) -> HTMLResponse:
    bundle = svc.load_results(_wd(request), path, context=context)
    return HTMLResponse(svc.report_page(bundle, panel=panel))


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "results .jsonl or record / atlas .json (at most 20 MiB)"}}}}}}}


@router.post("/results/upload", openapi_extra=UPLOAD_BODY,
             summary="Upload a results JSONL / record JSON into <workdir>/uploads/ (capped, validated)")
async def upload(request: Request) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    from attnscope.serve.upload import read_upload

    wd = _wd(request)
    name, data, _ = await read_upload(request, wd)
    rel, bundle = await run_in_threadpool(svc.save_and_check_upload, wd, name, data)
    return {"path": rel, "inputs": to_jsonable(bundle.inputs), "warnings": bundle.warnings}


@router.get("/ask", summary="A plain-English question -> one recipe call (deterministic parser)")
def ask(request: Request, q: str = Query(..., max_length=500,
                                         examples=["Will Llama-3-8B serve 32K context?"])) -> dict[str, Any]:
    plan, result = run_ask(_wd(request), q)
    return {"understood": to_jsonable(plan), "call": plan.call(), "cli": plan.cli(), "result": to_jsonable(result)}


def run_ask(wd, question: str):
    """Parse a question and make the call it names: (AskPlan, result)."""
    from attnscope.serve.ask import parse_question

    plan = parse_question(question)
    return plan, run_plan(wd, plan)


def run_plan(wd, plan):
    """Make the call an :class:`~attnscope.serve.ask.AskPlan` names (recipe, card or fit)."""
    if plan.action == "card":
        return svc.card(wd, plan.model, plan.params.get("context"))
    if plan.action == "fit":
        return svc.fit(wd, plan.model, plan.params.get("context"), plan.params.get("batch", 1),
                       plan.params.get("dtype", "bf16"))
    params = {k: v for k, v in plan.params.items() if k != "context"}
    return svc.recipe(wd, plan.recipe, plan.model, plan.params.get("context"), params)
