"""``flow.run(run_on_schedule=True)``: run a scheduled flow in this process at each of its
schedule's times, as Prefect's ``flow.run()`` does.

Before each run the process sleeps until the next time the schedule gives (after the
previous one), then runs the flow with that time as ``scheduled_start_time`` (so
``today``, ``date`` and targets follow it). It stops when the schedule has no more times
(its ``end_date``) and returns the last run's state; without an end it runs until
interrupted, as Prefect's does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from headrace.engine.state import Scheduled, State
from headrace.utilities.logging import get_logger

__all__ = ["run_on_schedule"]

logger = get_logger("flow_runner")


def run_on_schedule(
    flow: Any,
    run_once: Callable[[Mapping[str, Any]], State],
    context: Mapping[str, Any] | None = None,
) -> State:
    """Call ``run_once(context)`` at each of ``flow.schedule``'s times from now on; the last
    run's state (``Scheduled`` if the schedule has no time left at all)."""
    schedule = flow.schedule
    last: State | None = None
    after = datetime.now(UTC)
    while True:
        upcoming = schedule.next(1, after=after)
        if not upcoming:
            return last if last is not None else Scheduled("The schedule has no more runs.")
        when = upcoming[0]
        wait = (when - datetime.now(UTC)).total_seconds()
        if wait > 0:
            logger.info("Flow %r: waiting for the next scheduled run at %s", flow.name, when)
            time.sleep(wait)
        last = run_once({**(context or {}), "scheduled_start_time": when})
        after = when
