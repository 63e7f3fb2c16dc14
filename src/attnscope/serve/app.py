"""The web application: :func:`create_app` builds the FastAPI app for one working folder.

Pages (``/profile``, ``/compare``, ``/recipes``, ``/dataset``, ``/results``, ``/ask``), the
JSON API under ``/api`` (OpenAPI schema at ``/api/openapi.json``, rendered locally at
``/api/docs``), static files under ``/static`` and the report stylesheet at
``/assets/report.css``. Everything is served locally; a Content-Security-Policy forbids
loading anything from elsewhere. Needs the ``serve`` extra (FastAPI, uvicorn, python-multipart).
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Sequence

from attnscope.errors import require_extra
from attnscope.serve.files import MAX_UPLOAD_BYTES, Workdir

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@lru_cache(maxsize=1)
def report_css() -> str:
    """The report's stylesheet (one source of truth for colours, tables, badges, provenance panels)."""
    from attnscope.report.render import stylesheet

    return stylesheet()


def create_app(workdir: str | os.PathLike = ".", *, max_upload_bytes: int = MAX_UPLOAD_BYTES,
               allowed_hosts: Optional[Sequence[str]] = None) -> Any:
    """Build the web app serving one working folder.

    Parameters
    ----------
    workdir : path
        The working folder: result files are listed and read from it, uploads are written to
        ``<workdir>/uploads/``, and model paths are resolved inside it. Nothing is written elsewhere.
    max_upload_bytes : int
        Upload cap in bytes (default 20 MiB); larger uploads get 413 and are never stored.
    allowed_hosts : sequence of str, optional
        Accepted ``Host`` headers (DNS-rebinding guard); ``attnscope serve`` passes the loopback
        names when bound to localhost. None accepts any.

    Returns
    -------
    fastapi.FastAPI
    """
    fastapi = require_extra("fastapi", "serve")
    require_extra("multipart", "serve")
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from fastapi.staticfiles import StaticFiles

    import attnscope
    from attnscope.errors import AttnscopeError
    from attnscope.serve import api, pages
    from attnscope.serve.service import status_of

    wd = Workdir(workdir, max_upload_bytes=max_upload_bytes)
    app = fastapi.FastAPI(
        title="attnscope", version=getattr(attnscope, "__version__", "?"),
        description="Predict and measure how transformer LMs attend. The JSON API mirrors the CLI; "
                    "pages at /profile, /compare, /recipes, /dataset, /results, /ask.",
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.workdir = wd

    @app.exception_handler(AttnscopeError)
    async def _user_error(request: Any, exc: AttnscopeError) -> Any:
        status = status_of(exc)
        if request.url.path.startswith("/api"):
            from attnscope.cli._common import to_jsonable

            return JSONResponse({"error": exc.one_line(), "type": type(exc).__name__, "field": exc.field,
                                 "value": to_jsonable(exc.value) if _plain(exc.value) else str(exc.value)},
                                status_code=status)
        return pages.render(request, "base.html", title="Error", error=exc)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Any, exc: RequestValidationError) -> Any:
        errs = exc.errors()
        first = errs[0] if errs else {}
        loc = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        return JSONResponse({"error": f"{loc or 'request'}: {first.get('msg', 'invalid')}", "type": "ValidationError",
                             "field": loc or None, "value": _short(first.get("input")), "detail": errs[:5]},
                            status_code=422)

    @app.middleware("http")
    async def _headers(request: Any, call_next: Any) -> Any:
        if allowed_hosts is not None:
            host = host_name(request.headers.get("host", ""))
            if host not in allowed_hosts:
                return JSONResponse({"error": f"host={host!r}: not served (bound to localhost)"}, status_code=400)
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.get("/assets/report.css", include_in_schema=False)
    def _report_css() -> Response:
        return Response(report_css(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/favicon.ico", include_in_schema=False)
    def _favicon() -> Response:  # standalone reports have no <link rel=icon>: browsers ask for this
        return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def host_name(header: str) -> str:
    """The host part of a Host header: 'localhost:8000' -> 'localhost', '[::1]:8000' -> '[::1]'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if ":" in header else header


def _plain(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool, list, dict))


def _short(v: Any) -> Any:
    return v if isinstance(v, (int, float, bool)) or v is None else str(v)[:200]
