"""Errors raised by the server layer; each maps to one HTTP status in the API."""

from __future__ import annotations

from headrace.exceptions import HeadraceError

__all__ = [
    "AuthError",
    "ConcurrencyLimitError",
    "ConflictError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "SecretsKeyError",
    "ServerError",
    "TransitionError",
    "VersionConflictError",
]


class ServerError(HeadraceError):
    """Base class of the server's errors; ``status`` is the HTTP status it answers with."""

    status = 500
    code = "server_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(ServerError, LookupError):
    """An id or name that does not exist (or is outside the caller's projects)."""

    status = 404
    code = "not_found"


class InvalidInputError(ServerError, ValueError):
    """Input that passed type validation but makes no sense (unknown parameter...)."""

    status = 422
    code = "invalid_input"


class ConflictError(ServerError, ValueError):
    """The request clashes with what is stored (a duplicate name...)."""

    status = 409
    code = "conflict"


class TransitionError(ConflictError):
    """A state change the state machine forbids (a finished run back to Running...)."""

    code = "invalid_transition"


class VersionConflictError(ConflictError):
    """A state change based on a stale version: someone else changed the run first."""

    code = "version_conflict"


class AuthError(ServerError, PermissionError):
    """No API key, or one the server does not know."""

    status = 401
    code = "unauthorized"


class ForbiddenError(ServerError, PermissionError):
    """A valid API key that may not do this (e.g. a project-scoped key creating projects)."""

    status = 403
    code = "forbidden"


class ConcurrencyLimitError(ConflictError):
    """Starting this would exceed a concurrency limit (task tag or flow label); retry later."""

    code = "concurrency_limit"


class SecretsKeyError(ServerError, ValueError):
    """The server's secrets key is malformed, or does not open a stored secret."""

    status = 500
    code = "secrets_key"
