"""Errors raised by the task library."""

from __future__ import annotations

from headrace.exceptions import HeadraceError

__all__ = ["MissingCommandError", "TaskLibraryError"]


class TaskLibraryError(HeadraceError):
    """Base of the task library's errors."""


class MissingCommandError(TaskLibraryError, TypeError):
    """A ``ShellTask`` ran with no command, neither set on the task nor passed to it."""
