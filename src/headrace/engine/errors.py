"""Errors raised by the engine layer."""

from __future__ import annotations

from typing import Any

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
    """A state may not follow the current one (e.g. a finished run going back to Running).

    Raised by a runner applying a state, it carries its culprit as attributes: ``task``
    (the task's name, with ``[map_index]`` for a mapped child), ``old`` and ``new`` (the
    two states) and ``story`` (the states the run went through before, oldest first), and
    it survives pickling (it may be raised on a worker). Raised by a plain table lookup,
    only the message is set.
    """

    def __init__(
        self,
        message: str,
        *,
        task: str | None = None,
        old: Any = None,
        new: Any = None,
        story: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(message)
        self.task = task
        self.old = old
        self.new = new
        self.story = story

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_invalid_transition,
            (str(self), self.task, self.old, self.new, self.story),
        )


def _rebuild_invalid_transition(
    message: str, task: str | None, old: Any, new: Any, story: tuple[Any, ...]
) -> InvalidTransitionError:
    return InvalidTransitionError(message, task=task, old=old, new=new, story=story)


class ParameterError(HeadraceError, ValueError):
    """Parameters passed to a run are unknown, missing or malformed; the message names them."""


class ResultError(HeadraceError, ValueError):
    """A result cannot be written, read or serialized; the message names the task."""


class TaskTimeoutError(HeadraceError, TimeoutError):
    """A task ran longer than its ``timeout``."""
