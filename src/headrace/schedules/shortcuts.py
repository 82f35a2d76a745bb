"""``IntervalSchedule``, ``CronSchedule`` and ``RRuleSchedule``: one-clock schedules, kept as
shortcuts (as in Prefect 1, where they wrap an ``IntervalClock``, a ``CronClock`` or an
``RRuleClock``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from headrace.schedules.clocks import CronClock, IntervalClock, RRuleClock
from headrace.schedules.schedule import Schedule
from headrace.schedules.times import datetime_to_json

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule"]


class IntervalSchedule(Schedule):
    """Every ``interval`` from ``start_date`` (default 2019-01-01 UTC) up to ``end_date``."""

    def __init__(
        self,
        start_date: datetime | None = None,
        interval: timedelta | None = None,
        end_date: datetime | None = None,
    ) -> None:
        self.clock = IntervalClock(interval, start_date, end_date)  # type: ignore[arg-type]
        super().__init__(clocks=[self.clock])

    @property
    def interval(self) -> timedelta:
        return self.clock.interval

    @property
    def start_date(self) -> datetime | None:
        return self.clock.start_date

    @property
    def end_date(self) -> datetime | None:
        return self.clock.end_date

    def __repr__(self) -> str:
        return f"IntervalSchedule(start_date={self.start_date!r}, interval={self.interval!r})"

    def serialize(self) -> dict[str, Any]:
        return {
            "type": "IntervalSchedule",
            "interval": self.interval.total_seconds(),
            "start_date": datetime_to_json(self.start_date),
            "end_date": datetime_to_json(self.end_date),
        }


class CronSchedule(Schedule):
    """At the times a cron expression names, in ``start_date``'s time zone (default UTC)."""

    def __init__(
        self,
        cron: str,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        day_or: bool | None = None,
    ) -> None:
        self.clock = CronClock(cron, start_date, end_date, day_or=day_or)
        super().__init__(clocks=[self.clock])

    @property
    def cron(self) -> str:
        return self.clock.cron

    @property
    def start_date(self) -> datetime | None:
        return self.clock.start_date

    @property
    def end_date(self) -> datetime | None:
        return self.clock.end_date

    @property
    def day_or(self) -> bool:
        return self.clock.day_or

    def __repr__(self) -> str:
        return f"CronSchedule({self.cron!r}, start_date={self.start_date!r})"

    def serialize(self) -> dict[str, Any]:
        return {
            "type": "CronSchedule",
            "cron": self.cron,
            "start_date": datetime_to_json(self.start_date),
            "end_date": datetime_to_json(self.end_date),
            "day_or": self.day_or,
        }


def RRuleSchedule(
    rrule_obj: Any, start_date: datetime | None = None, end_date: datetime | None = None
) -> Schedule:
    """A schedule of one :class:`RRuleClock` (a dateutil ``rrule``), as Prefect 1's
    ``RRuleSchedule`` builds it."""
    return Schedule(clocks=[RRuleClock(rrule_obj, start_date, end_date)])
