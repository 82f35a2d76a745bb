"""Errors raised by :class:`headrace.client.Client`; each carries the server's message.

:class:`ApiError` is any non-2xx answer: ``status``, ``code`` (the server's error kind, e.g.
``"version_conflict"``), ``detail`` and ``field`` (the input at fault, when the server
named one). Subclasses keep the builtin bases callers catch (``LookupError`` for 404,
``ValueError`` for 422, ``PermissionError`` for 401/403).
"""

from __future__ import annotations

from typing import Any

from headrace.exceptions import HeadraceError

__all__ = [
    "ApiError",
    "ClientError",
    "ConflictError",
    "ForbiddenError",
    "InvalidTransitionError",
    "NotFoundError",
    "SecretNotFoundError",
    "ServerUnavailableError",
    "UnauthorizedError",
    "UnfinishedTaskRunsError",
    "ValidationError",
    "VersionConflictError",
    "error_for",
]


class ClientError(HeadraceError):
    """Base class of the client's errors."""


class ServerUnavailableError(ClientError, ConnectionError):
    """The server could not be reached (or kept answering 502/503/504) after all retries."""


class ApiError(ClientError):
    """The server answered with an error status."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        detail: Any,
        code: str | None = None,
        field: str | None = None,
    ) -> None:
        self.method, self.path, self.status = method, path, status
        self.detail, self.code, self.field = detail, code, field
        text = detail if isinstance(detail, str) else _describe(detail)
        super().__init__(f"{method} {path} -> {status}: {text}")


def _describe(detail: Any) -> str:
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", [])[1:]) or "body"
                parts.append(f"{loc}: {item.get('msg', '')}")
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


class NotFoundError(ApiError, LookupError):
    """404: the id or name does not exist (or belongs to a project the key cannot see)."""


class ValidationError(ApiError, ValueError):
    """422: the input was rejected; ``field`` names it."""


class ConflictError(ApiError, ValueError):
    """409: the request clashes with what the server holds."""


class VersionConflictError(ConflictError):
    """409: a state change based on a stale version."""


class InvalidTransitionError(ConflictError):
    """409: a state change the state machine forbids."""


class UnfinishedTaskRunsError(InvalidTransitionError):
    """409: a flow run may not succeed while some of its task runs have not finished (or
    its reference tasks did not succeed); the message names them."""


class UnauthorizedError(ApiError, PermissionError):
    """401: no API key or an unknown one."""


class ForbiddenError(ApiError, PermissionError):
    """403: the key may not do this."""


def error_for(method: str, path: str, status: int, body: Any) -> ApiError:
    """The :class:`ApiError` subclass for an error answer."""
    detail: Any = body
    code = field = None
    if isinstance(body, dict):
        detail = body.get("detail", body)
        code, field = body.get("code"), body.get("field")
    cls: type[ApiError] = ApiError
    if status == 404:
        cls = NotFoundError
    elif status in (400, 422):
        cls = ValidationError
    elif status == 409:
        cls = {
            "version_conflict": VersionConflictError,
            "invalid_transition": InvalidTransitionError,
            "unfinished_task_runs": UnfinishedTaskRunsError,
        }.get(code or "", ConflictError)
    elif status == 401:
        cls = UnauthorizedError
    elif status == 403:
        cls = ForbiddenError
    return cls(method, path, status, detail, code=code, field=field)


class SecretNotFoundError(ClientError, ValueError):
    """``Secret(name).get()`` found no value; ``name`` and ``looked_in`` say where it looked."""

    def __init__(self, name: str, looked_in: list[str]) -> None:
        places = ", ".join(looked_in)
        super().__init__(f"secret {name!r} was not found (looked in: {places})")
        self.name = name
        self.looked_in = looked_in
