"""Schedule adjustments (Prefect 1's ``prefect.schedules.adjustments``): functions that move
a kept event's time. Each is a :class:`Rule`, so schedules using them serialize to JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from headrace.schedules.errors import ScheduleError
from headrace.schedules.rules import Rule
from headrace.schedules.times import add as add_delta
from headrace.schedules.times import add_days

__all__ = ["ADJUSTMENTS", "add", "next_weekday"]

Adjustment = Rule[datetime]


def add(interval: timedelta | float) -> Adjustment:
    """Moves each event by ``interval`` (whole days keep the local wall-clock time, the rest
    is absolute, as pendulum's ``add`` in Prefect). JSON carries the interval in seconds."""
    if isinstance(interval, bool) or not isinstance(interval, timedelta | int | float):
        raise ScheduleError(f"add needs a timedelta, not {interval!r}")
    delta = interval if isinstance(interval, timedelta) else timedelta(seconds=interval)
    return Rule("add", [delta.total_seconds()], lambda d: add_delta(d, delta))


def _next_weekday(when: datetime) -> datetime:
    while when.weekday() > 4:
        when = add_days(when, 1)
    return when


# Moves a Saturday or Sunday event to the Monday after, at the same local time.
next_weekday: Adjustment = Rule("next_weekday", [], _next_weekday)

ADJUSTMENTS: dict[str, Callable[..., Rule[Any]]] = {
    "add": add,
    "next_weekday": lambda: next_weekday,
}
