"""Running a task's code: one call per attempt (with its timeout and captured prints),
retried while the task's retry settings allow, until a final state.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from headrace.engine.boundary import UserCodeError, call_with_timeout
from headrace.engine.checkpoint import persist
from headrace.engine.context_keys import task_run_name
from headrace.engine.errors import TaskTimeoutError
from headrace.engine.failure import ErrorInfo, describe_error
from headrace.engine.looping import next_iteration
from headrace.engine.retry_waits import not_yet
from headrace.engine.reuse import remember
from headrace.engine.signals import ENDRUN, HeadraceSignal
from headrace.engine.state import (
    Failed,
    Looped,
    Retrying,
    Running,
    Scheduled,
    State,
    Success,
    TimedOut,
)
from headrace.utilities.debug import TaskRaised, raising
from headrace.utilities.logging import get_logger, stdout_capture

if TYPE_CHECKING:
    from headrace.core.task import Task
    from headrace.engine.task_runner import TaskRunner

__all__ = ["run_attempts"]


def run_attempts(
    runner: TaskRunner,
    state: State,
    inputs: dict[str, Any],
    ctx: dict[str, Any],
    fmt: dict[str, Any] | None,
    map_index: int | None,
) -> State:
    """Run the task until it succeeds, fails for good or signals; its final state.

    A successful result is persisted when ``fmt`` is given and cached when the task has
    ``cache_for``. ``ctx["task_run_count"]`` counts the attempts (1 on the first); a
    ``LOOP`` ends an iteration ``Looped`` and starts the next (:mod:`~headrace.engine.looping`).
    """
    task = runner.task
    run_count = state.run_count + 1 if isinstance(state, Retrying) else 1
    if isinstance(state, Scheduled) and not_yet(runner, state):
        return state  # a retry or a scheduled start still ahead: flow.run() comes back
    if getattr(task, "task_run_name", None) is not None:  # unset on tasks pickled before it
        ctx["task_run_name"] = task_run_name(task, ctx, inputs)
    while True:
        ctx["task_run_count"] = run_count
        state = runner.set_state(state, Running("Starting task run."), map_index)
        new = _attempt(task, inputs)
        if isinstance(new, Failed) and new.error is not None:
            _log_failure(task, new.error, run_count)
        if isinstance(new, Looped):
            state = next_iteration(runner, state, new, ctx, fmt, map_index)
            if state.is_failed():
                return state
            run_count = 1
            continue
        if isinstance(new, Retrying) or (
            isinstance(new, Failed) and may_retry(task, new, run_count)
        ):
            state = _wait_to_retry(runner, state, new, run_count, map_index)
            if runner.retry_later and isinstance(state, Retrying) and not_yet(runner, state):
                return state  # Retrying: flow.run() runs it again at its start time
            run_count += 1
            continue
        if type(new) is Success:
            if fmt is not None:
                new = persist(runner, new, fmt)
            if task.cache_for is not None and type(new) is Success:
                remember(runner, new, inputs, ctx)
        return runner.set_state(state, new, map_index)


def may_retry(task: Task, failed: State, run_count: int) -> bool:
    """Whether attempt ``run_count``'s failure leaves a retry (``max_retries``, ``retry_on``)."""
    if run_count > task.max_retries:
        return False
    if task.retry_on is None:
        return True
    return isinstance(failed._value, task.retry_on)


def _attempt(task: Task, inputs: dict[str, Any]) -> State:
    """One call of the task's code, as the state it ends in."""
    try:
        return Success("Task run succeeded.", _call(task, inputs))
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


def _log_failure(task: Task, error: ErrorInfo, run_count: int) -> None:
    """The failure and its traceback at ERROR from the task's logger (``task.<name>``),
    so the run's logs say why, wherever the logs are read."""
    logger = get_logger(f"task.{task.name}")
    if logger.isEnabledFor(logging.ERROR):
        attempt = f" (attempt {run_count})" if run_count > 1 or task.max_retries else ""
        logger.error(
            "Task %r failed%s: %s: %s\n%s",
            task.name,
            attempt,
            error.type,
            error.message,
            error.traceback.rstrip("\n"),
        )


def _call(task: Task, inputs: dict[str, Any]) -> Any:
    what = f"task {task.name!r}"
    fn: Callable[..., Any] = task.run
    if task.log_stdout:
        from headrace.runcontext import context

        fn = functools.partial(_captured, task.run, context.logger)
    if task.timeout is not None:
        return call_with_timeout(what, task.timeout, fn, **inputs)
    try:
        return fn(**inputs)
    except Exception as exc:
        raise UserCodeError(what, exc) from exc


def _wait_to_retry(
    runner: TaskRunner, state: State, failed: State, run_count: int, map_index: int | None
) -> State:
    """Move to ``Retrying`` and sleep out the task's retry delay (config's default if unset)."""
    task = runner.task
    delay = task.retry_delay
    if delay is None:
        from headrace.configuration import config

        delay = float(config.tasks.default_retry_delay)
    retrying = Retrying(
        f"Retrying task {task.name!r} (attempt {run_count + 1}): {failed.message}",
        failed._value,
        error=getattr(failed, "error", None),
        start_time=datetime.now(UTC) + timedelta(seconds=delay),
        run_count=run_count,
    )
    state = runner.set_state(state, retrying, map_index)
    if delay and not runner.retry_later:
        time.sleep(delay)
    return state


def _captured(fn: Callable[..., Any], logger: Any, /, **inputs: Any) -> Any:
    """Call ``fn`` with this thread's prints sent to ``logger`` (runs on whichever thread
    runs the task, including a timeout's helper thread)."""
    with stdout_capture(logger):
        return fn(**inputs)
