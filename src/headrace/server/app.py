"""The FastAPI application: routers under ``/api``, errors as JSON, services in-process.

``create_app(settings=None, **overrides)`` builds an app for one database; on startup it
runs the migrations and (unless ``run_services=False``) starts the background services.
Every error answer is ``{"detail": message, "code": kind, "field": name-or-null}``;
validation errors keep FastAPI's list form under ``detail`` (each item names the field in
``loc``) with ``code: "validation_error"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from headrace.server.api import ROUTERS
from headrace.server.db import Database
from headrace.server.docs import mount_docs
from headrace.server.errors import ServerError
from headrace.server.services import ServiceLoop
from headrace.server.settings import ServerSettings

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api"

DESCRIPTION = """headrace's orchestration API: projects, flows and their versions, flow runs,
task runs, state history, logs, agents, concurrency limits and API keys.

Authentication: `Authorization: Bearer <key>` when the server requires API keys.
Errors: `{"detail", "code", "field"}`. State changes carry the `version` they apply to and
answer 409 (`version_conflict` / `invalid_transition`) when they cannot apply."""


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


def create_app(settings: ServerSettings | None = None, **overrides: Any) -> FastAPI:
    """The server application for ``settings`` (default: the ``[server]`` config section)."""
    if settings is None:
        settings = ServerSettings.from_config(**overrides)
    db = Database(
        settings.database_url,
        busy_timeout=settings.sqlite_busy_timeout,
        checkpoint_interval=settings.sqlite_checkpoint_interval,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db.migrate()
        db.start_checkpoints()
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
        app.include_router(router, prefix=API_PREFIX)

    @app.exception_handler(ServerError)
    async def _server_error(_request: Request, exc: ServerError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status,
            content={"detail": exc.message, "code": exc.code, "field": exc.field},
        )

    @app.exception_handler(sa_exc.IntegrityError)
    async def _integrity(_request: Request, exc: sa_exc.IntegrityError) -> JSONResponse:
        # Two requests raced to create the same thing; the loser's transaction rolled back.
        return JSONResponse(
            status_code=409,
            content={
                "detail": "a concurrent request created a conflicting record; retry",
                "code": "conflict",
                "field": None,
            },
        )

    @app.exception_handler(sa_exc.OperationalError)
    async def _busy(_request: Request, exc: sa_exc.OperationalError) -> JSONResponse:
        # A lock wait that ran out (SQLite "database is locked", a PostgreSQL deadlock or
        # serialization failure) is transient: 503 tells clients to retry with backoff.
        text = str(exc.orig).lower()
        pgcode = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if "locked" in text or "busy" in text or pgcode in ("40001", "40P01", "55P03"):
            return JSONResponse(
                status_code=503,
                content={"detail": "database busy; retry", "code": "busy", "field": None},
            )
        raise exc

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in errors)
        return JSONResponse(
            status_code=422,
            content={
                "detail": errors,
                "code": "validation_error",
                "field": fields,
                "message": f"invalid input in: {fields}; " + "; ".join(e["msg"] for e in errors),
            },
        )

    mount_docs(app)
    _mount_ui(app)
    return app


def _version() -> str:
    from headrace import __version__

    return __version__
