"""Every error as one JSON shape: the exception handlers the app factory installs.

Every error answer is :class:`~headrace.wire.ErrorOut`:
``{"detail": message, "code": kind, "field": name-or-null, "errors": list-or-null}``.
A :class:`~headrace.server.errors.ServerError` answers with its own status and code; an
unknown route or method with 404/405 (a 405 lists every method the path takes in
``Allow``); a database constraint race with 409 ``conflict``; a lock wait that ran out with
503 ``busy`` (transient: retry); a validation error with 422 ``validation_error`` listing
each invalid input under ``errors`` (``{loc, msg, type}``), a pattern mismatch naming the
documented rule.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from headrace.server.errors import ServerError
from headrace.wire.base import ErrorOut
from headrace.wire.errors import validation_answer

__all__ = ["install_error_handlers"]


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


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as an :class:`ErrorOut` (see the module's docstring)."""

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
        return JSONResponse(status_code=422, content=validation_answer(exc.errors()))


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
