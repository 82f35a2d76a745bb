"""Checkpointing: whether a task's result is persisted, with which ``Result``, and the
write after a successful run (at the task's ``target`` when it has one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headrace.engine.errors import ResultError
from headrace.engine.failure import describe_error
from headrace.engine.state import Failed, State

if TYPE_CHECKING:
    from headrace.engine.task_runner import TaskRunner

__all__ = ["persist", "persists", "result_handler"]


def persists(runner: TaskRunner) -> bool:
    """Whether the task's results are written: its own ``checkpoint`` setting, else the
    flow's checkpointing when the task or flow names a ``Result``."""
    checkpoint = runner.task.checkpoint
    if checkpoint is None:
        return runner.checkpoint and (runner.task.result or runner.flow_result) is not None
    return checkpoint


def result_handler(runner: TaskRunner) -> Any:
    """The ``Result`` that reads and writes the task's results (``LocalResult`` if none)."""
    chosen = runner.task.result or runner.flow_result
    if chosen is None:
        from headrace.engine.results.local import LocalResult

        chosen = LocalResult()
    return chosen


def persist(runner: TaskRunner, new: State, fmt: dict[str, Any]) -> State:
    """Write a successful run's result; ``new`` with ``persisted`` set, or ``Failed`` naming
    the task when the write (or its location template) fails."""
    task = runner.task
    handler = result_handler(runner)
    try:
        if task.target is not None:
            location = handler.render_location(task.target, fmt)
            handler = handler.copy()
            handler.location = location
        new.persisted = handler.write(new._value, **fmt)
    except ResultError as exc:
        return Failed(
            f"Task {task.name!r}: its result could not be persisted: {exc}",
            exc,
            error=describe_error(exc),
        )
    return new
