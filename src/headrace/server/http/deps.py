"""FastAPI dependencies shared by the routers: the database, settings and caller."""

from __future__ import annotations

from fastapi import Depends, Request

from headrace.server.db.database import Database
from headrace.server.domain.auth import Principal, principal_for_key
from headrace.server.errors import ForbiddenError
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


DB = Depends(get_db)
"""A route parameter's default: the server's :class:`Database`."""
WHO = Depends(get_principal)
"""A route parameter's default: the calling :class:`Principal`."""
SETTINGS = Depends(get_settings)
"""A route parameter's default: the server's :class:`ServerSettings`."""
