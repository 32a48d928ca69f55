"""The app factory: the page, its JSON API and the track cache behind one guard.

``create_app(ServeOptions(...))`` builds a fresh app from its options alone (tests build one per case with a
``TestClient``); ``stridebeat serve`` builds one and runs it on uvicorn.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from stridebeat import __version__
from stridebeat.errors import OutputError, StridebeatError, UsageError, show_value
from stridebeat.serve.cache import TrackCache, default_dir
from stridebeat.serve.guard import Guard
from stridebeat.serve.renders import Busy, RenderQueue
from stridebeat.serve.routes import router

STATIC_DIR = Path(__file__).parent / "static"
MiB = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeOptions:
    """What a server is built from.

    ``token`` (None: no token) is required on every request; ``loopback_only`` refuses Host headers other than
    127.0.0.1, localhost and [::1] (a page elsewhere that renames itself to this address reaches nothing).
    """

    cache_dir: Path = field(default_factory=default_dir)
    cache_max_bytes: int = 512 * MiB
    token: str | None = None
    loopback_only: bool = True
    max_body_bytes: int = 64 * 1024
    render_workers: int = 2
    max_waiting: int = 4


def new_token() -> str:
    """A random access token for a LAN address (URL-safe, 128 bits)."""
    return secrets.token_urlsafe(16)


def create_app(options: ServeOptions | None = None) -> FastAPI:
    """A fresh app serving the page, the JSON API (``/api``, OpenAPI at ``/api/openapi.json``) and the tracks.

    Parameters
    ----------
    options : ServeOptions, optional
        The cache, the token and the limits (defaults: the user's cache folder, no token, loopback only).

    Returns
    -------
    FastAPI
        The app, ready for uvicorn or a ``TestClient``.
    """
    options = options or ServeOptions()
    cache = TrackCache(options.cache_dir, max_bytes=options.cache_max_bytes)
    queue = RenderQueue(cache, workers=options.render_workers, max_waiting=options.max_waiting)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cache.prepare()
        try:
            yield
        finally:
            queue.shutdown()

    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, and nothing here comes from the internet.
    app = FastAPI(
        title="stridebeat",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.cache = cache
    app.state.queue = queue
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _page_routes(app)
    _error_handlers(app)
    app.add_middleware(Guard, token=options.token, loopback_only=options.loopback_only, max_body=options.max_body_bytes)
    return app


def _page_routes(app: FastAPI) -> None:
    # The page and its service worker are revalidated on every load, so an update reaches the phone.
    fresh = {"cache-control": "no-cache"}

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=fresh)

    @app.get("/sw.js", include_in_schema=False)
    def service_worker() -> FileResponse:
        # At the root, so its scope covers the page, the API and the tracks.
        return FileResponse(STATIC_DIR / "sw.js", media_type="text/javascript", headers=fresh)


def _status(exc: StridebeatError) -> int:
    if isinstance(exc, Busy):
        return 429
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, OutputError):
        return 409
    return 500


def _error_handlers(app: FastAPI) -> None:
    """Every failure is one line of JSON, ``{"error": …, "field": …, "message": …}``: ``field`` is the setting it is
    about, ``error`` the line shown under that field (the value as typed and the reason: the field's label names the
    setting), ``message`` the whole line naming the setting, for a script or a page without that field."""

    @app.exception_handler(StridebeatError)
    async def stridebeat_error(request: Request, exc: StridebeatError) -> JSONResponse:
        shown = exc.line(show_value(exc.value, typed=True)) if exc.about_value else str(exc)
        body = {"error": shown, "field": exc.key, "message": str(exc)}
        return JSONResponse(body, status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        where = ".".join(loc) or "request"
        field_name = loc[1] if len(loc) > 1 and loc[0] == "settings" else (loc[0] if loc else None)
        if len(loc) > 1 and loc[0] == "settings":
            message = f"{field_name}: give a number, text, or true/false"
        else:
            message = f"{where}: {first.get('msg', 'invalid').lower()}"
        return JSONResponse({"error": message, "field": field_name}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        return JSONResponse({"error": message, "field": None}, status_code=exc.status_code, headers=exc.headers)
