"""``IntervalSchedule`` and ``CronSchedule``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter

from headrace.schedules.base import BaseSchedule, aware
from headrace.schedules.errors import ScheduleError

__all__ = ["CronSchedule", "IntervalSchedule"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class IntervalSchedule(BaseSchedule):
    """Every ``interval`` from ``start_date`` (default: the epoch, so times are round),
    up to ``end_date``."""

    def __init__(
        self,
        start_date: datetime | None = None,
        interval: timedelta | None = None,
        end_date: datetime | None = None,
    ) -> None:
        if not isinstance(interval, timedelta):
            raise ScheduleError(
                f"IntervalSchedule needs interval= as a timedelta, not {interval!r}"
            )
        if interval <= timedelta(0):
            raise ScheduleError(f"IntervalSchedule's interval must be positive, not {interval}")
        self.interval = interval
        self.start_date = aware(start_date, "start_date") or datetime(1970, 1, 1, tzinfo=UTC)
        self.end_date = aware(end_date, "end_date")
        if self.end_date is not None and self.end_date < self.start_date:
            raise ScheduleError("IntervalSchedule's end_date is before its start_date")

    def __repr__(self) -> str:
        return f"IntervalSchedule(start_date={self.start_date!r}, interval={self.interval!r})"

    def iter_after(self, after: datetime) -> Iterator[datetime]:
        if after < self.start_date:
            when = self.start_date
        else:
            steps = (after - self.start_date) // self.interval + 1
            when = self.start_date + steps * self.interval
        while self.end_date is None or when <= self.end_date:
            yield when
            when += self.interval

    def serialize(self) -> dict[str, Any]:
        return {
            "type": "IntervalSchedule",
            "interval": self.interval.total_seconds(),
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
        }


class CronSchedule(BaseSchedule):
    """At the times a cron expression names, in ``start_date``'s time zone (default UTC)."""

    def __init__(
        self,
        cron: str,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        day_or: bool = True,
    ) -> None:
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ScheduleError(f"{cron!r} is not a valid cron expression")
        self.cron = cron
        self.start_date = aware(start_date, "start_date")
        self.end_date = aware(end_date, "end_date")
        self.day_or = bool(day_or)
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ScheduleError("CronSchedule's end_date is before its start_date")

    def __repr__(self) -> str:
        return f"CronSchedule({self.cron!r}, start_date={self.start_date!r})"

    def iter_after(self, after: datetime) -> Iterator[datetime]:
        tz = self.start_date.tzinfo if self.start_date else UTC
        base = after.astimezone(tz)
        if self.start_date is not None and base < self.start_date:
            base = self.start_date - timedelta(microseconds=1)
        it = croniter(self.cron, base, day_or=self.day_or)
        while True:
            when = it.get_next(datetime)
            if when <= after:
                continue
            if self.end_date is not None and when > self.end_date:
                return
            yield when

    def serialize(self) -> dict[str, Any]:
        return {
            "type": "CronSchedule",
            "cron": self.cron,
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
            "day_or": self.day_or,
            "timezone": getattr(self.start_date.tzinfo, "key", None) if self.start_date else None,
        }
