"""Errors raised by the server layer; each maps to one HTTP status in the API."""

from __future__ import annotations

from headrace.exceptions import HeadraceError

__all__ = [
    "AuthError",
    "ConcurrencyLimitError",
    "ConflictError",
    "DatabaseInUseError",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "SecretsKeyError",
    "ServerError",
    "TransitionError",
    "UnfinishedTaskRunsError",
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


class UnfinishedTaskRunsError(TransitionError):
    """A flow run may not succeed while some of its task runs have not finished (or its
    reference tasks did not succeed): ``task_runs`` names them, ``total`` counts them."""

    code = "unfinished_task_runs"

    def __init__(self, message: str, *, flow_run_id: str, task_runs: list[str], total: int) -> None:
        super().__init__(message, field="state.name")
        self.flow_run_id = flow_run_id
        self.task_runs = task_runs
        self.total = total


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


class DatabaseInUseError(ServerError, RuntimeError):
    """A server was started on a SQLite file another server already serves."""

    status = 503
    code = "database_in_use"


class SecretsKeyError(ServerError, ValueError):
    """The server's secrets key is malformed, or does not open a stored secret."""

    status = 500
    code = "secrets_key"
