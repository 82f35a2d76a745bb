"""The FastAPI application: routers under ``/api``, errors as JSON, services in-process.

``create_app(settings=None, **overrides)`` builds an app for one database; on startup it
runs the migrations and (unless ``run_services=False``) starts the background services.
Every error answer has one shape, :class:`~headrace.wire.ErrorOut`:
``{"detail": message, "code": kind, "field": name-or-null, "errors": list-or-null}``;
a validation error (``code: "validation_error"``) lists each invalid input under ``errors``
(``{loc, msg, type}``). Every route documents these answers in the OpenAPI schema, which
is the contract (a schemathesis run in the tests holds the server to it). Request limits
(body size, log line length, batch sizes, integer ranges): :mod:`headrace.server.limits`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from headrace.server.api import ROUTERS
from headrace.server.db import Database
from headrace.server.docs import mount_docs
from headrace.server.errors import ServerError
from headrace.server.limits import BodySizeLimit
from headrace.server.services import ServiceLoop
from headrace.server.settings import ServerSettings
from headrace.server.sqlite_lock import ServerLock
from headrace.wire.base import ERROR_RESPONSES, ErrorOut
from headrace.wire.names import PATTERN_RULES

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api"

DESCRIPTION = """headrace's orchestration API: projects, flows and their versions, flow runs,
task runs, state history, logs, agents, concurrency limits and API keys.

Authentication: `Authorization: Bearer <key>` when the server requires API keys.
Errors: `{"detail", "code", "field", "errors"}` (`ErrorOut`) for every status. State changes
carry the `version` they apply to and answer 409 (`version_conflict` /
`invalid_transition`) when they cannot apply. A body over `server.max_body_bytes` is a 413."""


def _error(status: int, detail: str, code: str, field: str | None = None, **extra: Any) -> Any:
    return JSONResponse(status_code=status, content=ErrorOut.body(detail, code, field, **extra))


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


def _mount_ui(app: FastAPI) -> None:
    """Serve the web UI from the same origin when its package is present."""
    import importlib

    try:
        ui = importlib.import_module("headrace.server.ui")
    except ImportError:
        return
    mount = getattr(ui, "mount", None)
    if callable(mount):
        mount(app)


_FROZEN: list[bool] = []


def create_app(settings: ServerSettings | None = None, **overrides: Any) -> FastAPI:
    """The server application for ``settings`` (default: the ``[server]`` config section)."""
    if settings is None:
        settings = ServerSettings.from_config(**overrides)
    db = Database(
        settings.database_url,
        busy_timeout=settings.sqlite_busy_timeout,
        checkpoint_interval=settings.sqlite_checkpoint_interval,
    )

    lock = _sqlite_lock(db, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if lock is not None:
            lock.acquire()
        try:
            db.migrate()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        db.start_checkpoints()
        # the startup heap (modules, app, tables) lives as long as the server: collections
        # stop walking it (a big report's allocations otherwise each time pay for all of it);
        # once per process (a process that starts many apps, a test run, freezes only the first)
        if not _FROZEN:
            _FROZEN.append(True)
            gc.collect()
            gc.freeze()
        loop = ServiceLoop(db, settings) if settings.run_services else None
        if loop is not None:
            loop.start()
        app.state.services = loop
        try:
            yield
        finally:
            if loop is not None:
                loop.stop()
            db.dispose()
            if lock is not None:
                lock.release()

    app = FastAPI(
        title="headrace",
        description=DESCRIPTION,
        version=_version(),
        lifespan=lifespan,
        docs_url=None,  # served offline by mount_docs, not from a CDN
        redoc_url=None,
    )
    app.state.db = db
    app.state.settings = settings
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)

    @app.exception_handler(ServerError)
    async def _server_error(_request: Request, exc: ServerError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.code, exc.field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # unknown routes (404), a method a route does not take (405, with its Allow header)
        answer = _error(
            exc.status_code, str(exc.detail), _HTTP_CODES.get(exc.status_code, "http_error")
        )
        answer.headers.update(exc.headers or {})
        if exc.status_code == 405:
            answer.headers["allow"] = ", ".join(_allowed_methods(app, request))
        return answer

    @app.exception_handler(sa_exc.IntegrityError)
    async def _integrity(_request: Request, exc: sa_exc.IntegrityError) -> JSONResponse:
        # Two requests raced to create the same thing; the loser's transaction rolled back.
        return _error(409, "a concurrent request created a conflicting record; retry", "conflict")

    @app.exception_handler(sa_exc.OperationalError)
    async def _busy(_request: Request, exc: sa_exc.OperationalError) -> JSONResponse:
        # A lock wait that ran out (SQLite "database is locked", a PostgreSQL deadlock or
        # serialization failure) is transient: 503 tells clients to retry with backoff.
        text = str(exc.orig).lower()
        pgcode = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if "locked" in text or "busy" in text or pgcode in ("40001", "40P01", "55P03"):
            return _error(503, "database busy; retry", "busy")
        raise exc

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": _message(e), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in errors)
        return _error(
            422,
            f"invalid input in: {fields}; " + "; ".join(str(e["msg"]) for e in errors),
            "validation_error",
            fields,
            errors=errors,
        )

    mount_docs(app)
    _mount_ui(app)
    return app


def _message(error: Any) -> str:
    """A validation error's message; a pattern mismatch says the documented rule."""
    if error.get("type") == "string_pattern_mismatch":
        rule = PATTERN_RULES.get((error.get("ctx") or {}).get("pattern", ""))
        if rule is not None:
            return f"{rule}; got {error.get('input')!r}"
    return str(error.get("msg", ""))


def _sqlite_lock(db: Database, settings: ServerSettings) -> ServerLock | None:
    """The one-server lock of a SQLite file (None: PostgreSQL, in memory, or allowed)."""
    if not db.is_sqlite or settings.allow_shared_sqlite:
        return None
    import sqlalchemy as sa

    path = sa.engine.make_url(settings.database_url).database
    if not path or path == ":memory:":
        return None
    return ServerLock(path)


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route of ``request``'s path takes (Starlette names only the first
    route's, and GET and POST of one path are two routes)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in app.router.routes):
            methods.add(method)
    return sorted(methods)


def _version() -> str:
    from headrace._version import __version__

    return __version__
