"""FastAPI dependencies shared by the routers: the database, settings and caller."""

from __future__ import annotations

from fastapi import Depends, Request

from headrace.server.db.database import Database
from headrace.server.domain.auth import Principal, principal_for_key
from headrace.server.errors import ForbiddenError
from headrace.server.http.reads import run_read
from headrace.server.settings import ServerSettings

__all__ = ["DB", "SETTINGS", "WHO", "get_db", "get_principal", "get_settings"]


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def get_principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer <key>`` (or ``X-Api-Key``)."""
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else None
    key = key or request.headers.get("x-api-key")
    settings = get_settings(request)
    if not key and not settings.require_api_key:
        return Principal()
    with get_db(request).session(write=False) as session:
        principal = principal_for_key(session, key, settings.require_api_key)
    if principal.flow_run_id is not None:
        allowed = f"/api/flow_runs/{principal.flow_run_id}/report"
        if request.method != "POST" or request.url.path != allowed:
            raise ForbiddenError(
                f"a run token may only report for its flow run (POST {allowed}); "
                f"not {request.method} {request.url.path}"
            )
    return principal


# The shared defaults below are coroutines: FastAPI runs a plain ``def`` dependency in its
# thread pool, a hop (~0.1-0.2 ms of CPU, more under load) per dependency per request for
# what is an attribute read. The caller's key is looked up (a read by primary key) where
# :func:`~headrace.server.http.reads.run_read` says.


async def _db(request: Request) -> Database:
    return get_db(request)


async def _settings(request: Request) -> ServerSettings:
    return get_settings(request)


async def _principal(request: Request) -> Principal:
    headers = request.headers
    if (
        "authorization" not in headers
        and "x-api-key" not in headers
        and not get_settings(request).require_api_key
    ):
        return Principal()
    return await run_read(get_db(request), True, get_principal, request)


DB = Depends(_db)
"""A route parameter's default: the server's :class:`Database`."""
WHO = Depends(_principal)
"""A route parameter's default: the calling :class:`Principal` (:func:`get_principal`)."""
SETTINGS = Depends(_settings)
"""A route parameter's default: the server's :class:`ServerSettings`."""
