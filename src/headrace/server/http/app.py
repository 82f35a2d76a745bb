"""The FastAPI application: routers under ``/api``, errors as JSON, services in-process.

``create_app(settings=None, **overrides)`` builds an app for one database; on startup it
runs the migrations and (unless ``run_services=False``) starts the background services.
Every error answer has one shape, :class:`~headrace.wire.ErrorOut` (the handlers:
:mod:`headrace.server.http.errors`). Every route documents these answers in the OpenAPI
schema, which is the contract (a schemathesis run in the tests holds the server to it).
Request limits (body size, log line length, batch sizes, integer ranges):
:mod:`headrace.server.http.limits`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from headrace.server.db.database import Database
from headrace.server.db.sqlite_lock import ServerLock
from headrace.server.http.docs import mount_docs
from headrace.server.http.errors import install_error_handlers
from headrace.server.http.limits import BodySizeLimit
from headrace.server.http.routers import ROUTERS
from headrace.server.services import ServiceLoop
from headrace.server.settings import ServerSettings
from headrace.wire.base import ERROR_RESPONSES

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api"

DESCRIPTION = """headrace's orchestration API: projects, flows and their versions, flow runs,
task runs, state history, logs, agents, concurrency limits and API keys.

Authentication: `Authorization: Bearer <key>` when the server requires API keys.
Errors: `{"detail", "code", "field", "errors"}` (`ErrorOut`) for every status. State changes
carry the `version` they apply to and answer 409 (`version_conflict` /
`invalid_transition`) when they cannot apply. A body over `server.max_body_bytes` is a 413."""


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
        _limit_request_threads(settings.request_threads)
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

    install_error_handlers(app)
    mount_docs(app)
    _mount_ui(app)
    return app


def _limit_request_threads(threads: int) -> None:
    """Run at most ``threads`` request handlers at a time in this event loop's thread pool.

    Handlers that write are plain functions, run in a thread each. Python runs one thread at
    a time: forty of them at once (anyio's default) serve no more requests per second than a
    few, but share the interpreter in 5 ms slices, so a request that needs 3 ms waits behind
    every other one in flight, and the slowest wait longest. The limit must be set from
    inside the loop (the limiter is the loop's)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def _sqlite_lock(db: Database, settings: ServerSettings) -> ServerLock | None:
    """The one-server lock of a SQLite file (None: PostgreSQL, in memory, or allowed)."""
    if not db.is_sqlite or settings.allow_shared_sqlite:
        return None
    import sqlalchemy as sa

    path = sa.engine.make_url(settings.database_url).database
    if not path or path == ":memory:":
        return None
    return ServerLock(path)


def _version() -> str:
    from headrace._version import __version__

    return __version__
