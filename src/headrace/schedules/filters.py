"""Schedule filters (Prefect 1's ``prefect.schedules.filters``): functions of an event's time,
in its clock's zone, that keep (True) or drop (False) the event.

``is_weekday``, ``is_weekend``, ``is_month_start`` and ``is_month_end`` are filters
themselves; the others build one from their arguments. Each is a :class:`Rule`, so a
schedule using them serializes to JSON.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from headrace.schedules.errors import ScheduleError
from headrace.schedules.rules import Rule
from headrace.schedules.times import datetime_from_json, datetime_to_json, time_from_json

__all__ = [
    "FILTERS",
    "at_time",
    "between_dates",
    "between_datetimes",
    "between_times",
    "is_day_of_week",
    "is_month_end",
    "is_month_start",
    "is_weekday",
    "is_weekend",
    "on_date",
    "on_datetime",
]

Filter = Rule[bool]


def _datetime(value: datetime | str, what: str) -> datetime:
    parsed = datetime_from_json(value, what) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        raise ScheduleError(f"{what} must be a datetime, not {value!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _time(value: time | str, what: str) -> time:
    parsed = time_from_json(value, what) if isinstance(value, str) else value
    if not isinstance(parsed, time):
        raise ScheduleError(f"{what} must be a time, not {value!r}")
    return parsed.replace(tzinfo=None)


def _month_day(month: int, day: int, what: str) -> tuple[int, int]:
    if not (isinstance(month, int) and 1 <= month <= 12):
        raise ScheduleError(f"{what}: month must be 1-12, not {month!r}")
    if not (isinstance(day, int) and 1 <= day <= 31):
        raise ScheduleError(f"{what}: day must be 1-31, not {day!r}")
    return month, day


def on_datetime(dt: datetime | str) -> Filter:
    """Keeps only an event at exactly the instant ``dt``."""
    when = _datetime(dt, "on_datetime").astimezone(UTC)
    return Rule("on_datetime", [datetime_to_json(when)], lambda d: d.astimezone(UTC) == when)


def on_date(month: int, day: int) -> Filter:
    """Keeps events on ``month``/``day`` of any year."""
    key = _month_day(month, day, "on_date")
    return Rule("on_date", [month, day], lambda d: (d.month, d.day) == key)


def at_time(t: time | str) -> Filter:
    """Keeps events whose local wall-clock time is exactly ``t``."""
    at = _time(t, "at_time")
    return Rule("at_time", [at.isoformat()], lambda d: d.time() == at)


def between_datetimes(start: datetime | str, end: datetime | str) -> Filter:
    """Keeps events from instant ``start`` to ``end``, both included."""
    lo = _datetime(start, "between_datetimes start").astimezone(UTC)
    hi = _datetime(end, "between_datetimes end").astimezone(UTC)
    return Rule(
        "between_datetimes",
        [datetime_to_json(lo), datetime_to_json(hi)],
        lambda d: lo <= d.astimezone(UTC) <= hi,
    )


def between_times(start: time | str, end: time | str) -> Filter:
    """Keeps events whose local time is from ``start`` to ``end`` (both included); when
    ``start`` is later than ``end`` the window wraps past midnight."""
    lo, hi = _time(start, "between_times start"), _time(end, "between_times end")

    def keep(d: datetime) -> bool:
        t = d.time()
        return lo <= t <= hi if lo <= hi else (t >= lo or t <= hi)

    return Rule("between_times", [lo.isoformat(), hi.isoformat()], keep)


def between_dates(start_month: int, start_day: int, end_month: int, end_day: int) -> Filter:
    """Keeps events from one month/day to another in any year (both included); when the
    start is later in the year than the end the window wraps past New Year."""
    lo = _month_day(start_month, start_day, "between_dates start")
    hi = _month_day(end_month, end_day, "between_dates end")

    def keep(d: datetime) -> bool:
        md = (d.month, d.day)
        return lo <= md <= hi if lo <= hi else (md >= lo or md <= hi)

    return Rule("between_dates", [*lo, *hi], keep)


def is_day_of_week(day_of_week: int) -> Filter:
    """Keeps events on one day of the week (0 is Monday, 6 Sunday), as Prefect's does."""
    if (
        isinstance(day_of_week, bool)
        or not isinstance(day_of_week, int)
        or not 0 <= day_of_week <= 6
    ):
        raise ScheduleError(
            f"is_day_of_week: day_of_week must be 0-6 (Monday-Sunday), not {day_of_week!r}"
        )
    return Rule("is_day_of_week", [day_of_week], lambda d: d.weekday() == day_of_week)


is_weekday: Filter = Rule("is_weekday", [], lambda d: d.weekday() < 5)
is_weekend: Filter = Rule("is_weekend", [], lambda d: d.weekday() > 4)
is_month_start: Filter = Rule("is_month_start", [], lambda d: d.day == 1)
is_month_end: Filter = Rule(
    "is_month_end", [], lambda d: d.day == calendar.monthrange(d.year, d.month)[1]
)

FILTERS: dict[str, Callable[..., Rule[Any]]] = {
    "on_datetime": on_datetime,
    "on_date": on_date,
    "at_time": at_time,
    "between_datetimes": between_datetimes,
    "between_times": between_times,
    "between_dates": between_dates,
    "is_day_of_week": is_day_of_week,
    "is_weekday": lambda: is_weekday,
    "is_weekend": lambda: is_weekend,
    "is_month_start": lambda: is_month_start,
    "is_month_end": lambda: is_month_end,
}
