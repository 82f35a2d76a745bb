"""Retries whose start time is ahead, split as Prefect splits them: ``FlowRunner.run()``
ends such a task ``Retrying`` (its downstream tasks wait, the flow stays ``Running``)
and returns; ``flow.run()`` (:func:`run_until_done`) sleeps until the earliest start time
and runs the flow again from the states it has, until nothing is left to retry. A task
given a ``Scheduled(start_time=...)`` state waits for that time the same way.

A runner that must finish in one call (the backend's, reporting to a server) runs with
``RunSettings(returns_retrying=False)``: its task runner's driver sleeps until the start
time instead (the steps only say when; see :mod:`~headrace.engine.steps`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from headrace.engine.state import Mapped, Scheduled, State

__all__ = ["retry_times", "run_until_done"]


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
