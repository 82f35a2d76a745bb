"""The instructions' I/O: calling a task's code, writing and reading its results, and the
cache. The driver (:class:`~headrace.engine.task_runner.TaskRunner`) calls these when it
carries out an instruction; each takes the task's spec and plain values and returns what
the next step needs, so none of them knows about runners or decides anything.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from headrace.engine import cache
from headrace.engine.boundary import UserCodeError, call_with_timeout
from headrace.engine.errors import ResultError, TaskTimeoutError
from headrace.engine.failure import ErrorInfo, describe_error
from headrace.engine.signals import ENDRUN, HeadraceSignal
from headrace.engine.state import Cached, Failed, State, Success, TimedOut, replace
from headrace.engine.task_spec import TaskSpec
from headrace.utilities.debug import TaskRaised, raising
from headrace.utilities.logging import get_logger, stdout_capture

__all__ = ["attempt", "log_failure", "lookup_cache", "read_target", "store_cache", "write_result"]


# ---- Execute -----------------------------------------------------------------------------


def attempt(spec: TaskSpec, inputs: dict[str, Any], logger: Any) -> State:
    """One call of the task's code, as the state it ends in (``logger`` takes its prints
    when the task has ``log_stdout``)."""
    task = spec.task
    try:
        return Success("Task run succeeded.", _call(spec, inputs, logger))
    except UserCodeError as exc:
        if raising():
            raise TaskRaised(exc.exc) from exc.exc
        return Failed(
            f"Task {task.name!r} failed: {type(exc.exc).__name__}: {exc.exc}",
            exc.exc,
            error=describe_error(exc.exc),
        )
    except TaskTimeoutError as exc:
        return TimedOut(f"Task {task.name!r}: {exc}", exc, error=describe_error(exc))
    except ENDRUN as end:
        return end.state
    except HeadraceSignal as sig:
        return sig.state


def _call(spec: TaskSpec, inputs: dict[str, Any], logger: Any) -> Any:
    task = spec.task
    fn: Callable[..., Any] = task.run
    if task.log_stdout:
        fn = functools.partial(_captured, task.run, logger)
    if spec.timeout is not None:
        return call_with_timeout(f"task {task.name!r}", spec.timeout, fn, **inputs)
    try:
        return fn(**inputs)
    except Exception as exc:
        raise UserCodeError(f"task {task.name!r}", exc) from exc


def _captured(fn: Callable[..., Any], logger: Any, /, **inputs: Any) -> Any:
    """Call ``fn`` with this thread's prints sent to ``logger`` (runs on whichever thread
    runs the task, including a timeout's helper thread)."""
    with stdout_capture(logger):
        return fn(**inputs)


def log_failure(spec: TaskSpec, error: ErrorInfo, run_count: int) -> None:
    """The failure and its traceback at ERROR from the task's logger (``task.<name>``),
    so the run's logs say why, wherever the logs are read."""
    task = spec.task
    logger = get_logger(f"task.{task.name}")
    if logger.isEnabledFor(logging.ERROR):
        attempt_no = f" (attempt {run_count})" if run_count > 1 or task.max_retries else ""
        logger.error(
            "Task %r failed%s: %s: %s\n%s",
            task.name,
            attempt_no,
            error.type,
            error.message,
            error.traceback.rstrip("\n"),
        )


# ---- Persist / ReadTarget ----------------------------------------------------------------


def write_result(spec: TaskSpec, new: State, fmt: dict[str, Any]) -> State:
    """Write a run's result: a copy of ``new`` holding where it went (``persisted``), or
    ``Failed`` naming the task when the write (or its location template) fails."""
    handler = spec.result
    assert handler is not None
    target = spec.task.target
    try:
        if target is not None:
            handler = handler.copy()
            handler.location = handler.render_location(target, fmt)
        return replace(new, persisted=handler.write(new._value, **fmt))
    except ResultError as exc:
        return Failed(
            f"Task {spec.name!r}: its result could not be persisted: {exc}",
            exc,
            error=describe_error(exc),
        )


def read_target(spec: TaskSpec, fmt: dict[str, Any]) -> tuple[str, Any]:
    """The task's target location and the ``Result`` read there (None if nothing is)."""
    handler = spec.result
    assert handler is not None  # a task with a target writes, so its spec has a Result
    location = handler.render_location(spec.task.target, fmt)
    if not handler.exists(location):
        return location, None
    return location, handler.read(location)


# ---- ReadCache / Remember ----------------------------------------------------------------


def lookup_cache(
    spec: TaskSpec,
    key: str,
    candidates: Mapping[str, Sequence[Cached]] | None,
    inputs: dict[str, Any],
    parameters: dict[str, Any],
) -> Cached | None:
    """The newest valid cache entry under ``key``: among ``candidates`` (the snapshot the
    flow runner sent along) when given, else in this process's cache."""
    validator = spec.task.cache_validator or cache.duration_only
    if candidates is None:
        return cache.lookup(key, validator, inputs, parameters)
    return cache.first_valid(candidates.get(key, ()), validator, inputs, parameters)


def store_cache(key: str, entry: Cached) -> None:
    """Keep ``entry`` in this process's cache."""
    cache.store(key, entry)
