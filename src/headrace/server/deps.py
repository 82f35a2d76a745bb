"""FastAPI dependencies shared by the routers: the database, settings and caller."""

from __future__ import annotations

from fastapi import Request

from headrace.server.auth import Principal, principal_for_key
from headrace.server.db import Database
from headrace.server.settings import ServerSettings

__all__ = ["get_db", "get_principal", "get_settings"]


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
        return principal_for_key(session, key, settings.require_api_key)
