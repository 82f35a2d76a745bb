"""Errors raised by the engine layer."""

from __future__ import annotations

from headrace.exceptions import HeadraceError

__all__ = [
    "EngineError",
    "InvalidTransitionError",
    "ParameterError",
    "ResultError",
    "TaskTimeoutError",
]


class EngineError(HeadraceError):
    """headrace itself failed while running user code (a bug or a broken environment)."""


class InvalidTransitionError(HeadraceError, ValueError):
    """A state may not follow the current one (e.g. a finished run going back to Running)."""


class ParameterError(HeadraceError, ValueError):
    """Parameters passed to a run are unknown, missing or malformed; the message names them."""


class ResultError(HeadraceError, ValueError):
    """A result cannot be written, read or serialized; the message names the task."""


class TaskTimeoutError(HeadraceError, TimeoutError):
    """A task ran longer than its ``timeout``."""
