"""Retries whose start time is ahead, split as Prefect splits them: ``FlowRunner.run()``
ends such a task ``Retrying`` (its downstream tasks wait, the flow stays ``Running``)
and returns; ``flow.run()`` (:func:`run_until_done`) sleeps until the earliest start time
and runs the flow again from the states it has, until nothing is left to retry. A task
given a ``Scheduled(start_time=...)`` state waits for that time the same way.

A runner that must finish in one call (the backend's, reporting to a server) keeps the
old way: it sleeps out the delay inside the task run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headrace.engine.state import Mapped, Scheduled, State

if TYPE_CHECKING:
    from headrace.engine.task_runner import TaskRunner

__all__ = ["children_finished", "not_yet", "retry_times", "run_until_done"]


def not_yet(runner: TaskRunner, state: Scheduled) -> bool:
    """Whether ``state``'s start time (a retry's, or a given ``Scheduled`` state's) is
    ahead; a runner that does not return such states (``retry_later`` unset) sleeps until
    then and answers ``False``."""
    start = state.start_time
    if start is None:
        return False
    wait = (start - datetime.now(UTC)).total_seconds()
    if wait <= 0:
        return False
    if runner.retry_later:
        return True
    time.sleep(wait)
    return False


def children_finished(state: Mapped) -> bool:
    """Whether every child of a mapped task finished (none waits to retry)."""
    return all(child.is_finished() for child in state.map_states)


def retry_times(results: Mapping[Any, State]) -> list[datetime]:
    """The start times of the task runs (mapped children too) waiting to retry or to
    start at a scheduled time."""
    times: list[datetime] = []
    for state in results.values():
        states = state.map_states if isinstance(state, Mapped) else (state,)
        for s in states:
            if isinstance(s, Scheduled) and s.start_time is not None:
                times.append(s.start_time)
    return times


def run_until_done(run_once: Callable[[Any, State | None], State], task_states: Any) -> State:
    """``run_once(task_states, flow_state)`` again and again, sleeping until the next
    retry's start time in between, until no task waits to retry; the last state."""
    state = run_once(task_states, None)
    while isinstance(state.result, dict):
        times = retry_times(state.result)
        if not times:
            break
        wait = (min(times) - datetime.now(UTC)).total_seconds()
        if wait > 0:
            time.sleep(wait)
        state = run_once(dict(state.result), state)
    return state
