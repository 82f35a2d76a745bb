"""Clocks: the sources of a schedule's events (Prefect 1's ``prefect.schedules.clocks``).

A clock yields :class:`ClockEvent` s strictly after a given time, ascending, between its
``start_date`` and ``end_date``; each event carries the clock's ``parameter_defaults`` (the
parameters of the flow run it creates) and ``labels`` (the run's labels, in place of the
flow's). Times come back in the clock's own time zone (its start date's), which is what the
filters see. How each clock treats daylight saving time follows Prefect:

- :class:`IntervalClock`: intervals of a day or more keep the local wall-clock time (a daily
  09:00 run stays at 09:00); shorter intervals are absolute (an hourly run fires every UTC
  hour, so on a fall-back night two runs show the same local hour).
- :class:`CronClock`: the cron expression names local wall-clock times; a time that repeats
  when clocks go back fires once (the first time), a time skipped when they go forward fires
  at the same instant an hour later in local terms.
- :class:`RRuleClock`: dateutil's rrule over the ``dtstart``'s zone, wall-clock like cron.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from croniter import croniter
from dateutil import rrule

from headrace.schedules.errors import ScheduleError
from headrace.schedules.times import add, aware, datetime_to_json, normalize

__all__ = [
    "DEFAULT_START",
    "Clock",
    "ClockEvent",
    "CronClock",
    "DatesClock",
    "IntervalClock",
    "RRuleClock",
]

# Prefect 1's IntervalClock anchors at 2019-01-01 UTC when it has no start date.
DEFAULT_START = datetime(2019, 1, 1, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class ClockEvent:
    """One time a clock fires, with the parameters and labels of the run it creates.

    Events order by their instant; an event equals a datetime at the same instant when it
    carries no parameters (Prefect's rule), and another event when all three fields match.
    """

    __slots__ = ("labels", "parameter_defaults", "start_time")

    def __init__(
        self,
        start_time: datetime,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.start_time = start_time
        self.parameter_defaults = dict(parameter_defaults or {})
        self.labels = None if labels is None else list(labels)

    def __repr__(self) -> str:
        return (
            f"ClockEvent({self.start_time.isoformat()}, "
            f"parameter_defaults={self.parameter_defaults!r}, labels={self.labels!r})"
        )

    def key(self) -> tuple[datetime, str, str]:
        """What makes two events the same run: instant, parameters, labels."""
        return (
            _utc(self.start_time),
            json.dumps(self.parameter_defaults, sort_keys=True, default=str),
            json.dumps(sorted(self.labels) if self.labels is not None else None),
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, datetime):
            return not self.parameter_defaults and _utc(self.start_time) == _utc(other)
        if isinstance(other, ClockEvent):
            return self.key() == other.key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.key())

    def __lt__(self, other: ClockEvent | datetime) -> bool:
        when = other.start_time if isinstance(other, ClockEvent) else other
        return _utc(self.start_time) < _utc(when)

    def __gt__(self, other: ClockEvent | datetime) -> bool:
        when = other.start_time if isinstance(other, ClockEvent) else other
        return _utc(self.start_time) > _utc(when)


def _check_labels(labels: Iterable[str] | None, owner: str) -> list[str] | None:
    if labels is None:
        return None
    if isinstance(labels, str) or not all(isinstance(lb, str) and lb for lb in labels):
        raise ScheduleError(f"{owner} labels must be a list of non-empty strings, not {labels!r}")
    return sorted(set(labels))


def _check_parameters(parameters: dict[str, Any] | None, owner: str) -> dict[str, Any]:
    if parameters is None:
        return {}
    if not isinstance(parameters, dict) or not all(isinstance(k, str) for k in parameters):
        raise ScheduleError(f"{owner} parameter_defaults must be a dict keyed by parameter name")
    try:
        json.dumps(parameters)
    except (TypeError, ValueError) as exc:
        raise ScheduleError(f"{owner} parameter_defaults must be JSON values: {exc}") from None
    return dict(parameters)


class Clock:
    """The clock interface: :meth:`events` after a time, bounded by start and end dates."""

    type_name: ClassVar[str] = "Clock"

    def __init__(
        self,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        name = type(self).__name__
        start, end = aware(start_date, f"{name} start_date"), aware(end_date, f"{name} end_date")
        self.start_date = normalize(start) if start is not None else None
        self.end_date = normalize(end) if end is not None else None
        if self.start_date and self.end_date and _utc(self.end_date) < _utc(self.start_date):
            raise ScheduleError(f"{name}'s end_date is before its start_date")
        self.parameter_defaults = _check_parameters(parameter_defaults, name)
        self.labels = _check_labels(labels, name)

    def times(self, after: datetime) -> Iterator[datetime]:
        """This clock's times strictly after ``after``, ascending (no end date applied)."""
        raise NotImplementedError

    def events(self, after: datetime | None = None) -> Iterator[ClockEvent]:
        """Events strictly after ``after`` (default: now) up to the end date, ascending."""
        start = aware(after, "after") or datetime.now(UTC)
        if self.start_date is not None and _utc(start) < _utc(self.start_date):
            start = self.start_date - timedelta(microseconds=1)
        end = _utc(self.end_date) if self.end_date is not None else None
        last: datetime | None = None
        for when in self.times(start):
            instant = _utc(when)
            if end is not None and instant > end:
                return
            if instant <= _utc(start) or (last is not None and instant <= last):
                continue
            last = instant
            yield ClockEvent(when, self.parameter_defaults, self.labels)

    def _base_document(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "start_date": datetime_to_json(self.start_date),
            "end_date": datetime_to_json(self.end_date),
            "parameter_defaults": self.parameter_defaults,
            "labels": self.labels,
        }

    def serialize(self) -> dict[str, Any]:
        """The clock's JSON document (read back by ``schedule_from_dict``)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(json.dumps(self.serialize(), sort_keys=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.serialize()!r})"


class IntervalClock(Clock):
    """Every ``interval`` from ``start_date`` (default 2019-01-01 UTC, so times are round)."""

    type_name = "IntervalClock"

    def __init__(
        self,
        interval: timedelta,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        if not isinstance(interval, timedelta):
            raise ScheduleError(f"IntervalClock needs interval= as a timedelta, not {interval!r}")
        if interval <= timedelta(0):
            raise ScheduleError(f"IntervalClock's interval must be positive, not {interval}")
        self.interval = interval
        super().__init__(start_date, end_date, parameter_defaults, labels)

    def times(self, after: datetime) -> Iterator[datetime]:
        anchor = self.start_date or DEFAULT_START
        elapsed = _utc(after) - _utc(anchor)
        # A DST switch moves wall-clock steps by an hour or two, so start a little early.
        k = max(0, elapsed // self.interval - 2) if elapsed > timedelta(0) else 0
        while True:
            yield add(anchor, self.interval * k)
            k += 1

    def serialize(self) -> dict[str, Any]:
        return {**self._base_document(), "interval": self.interval.total_seconds()}


class CronClock(Clock):
    """At the local wall-clock times a cron expression names, in ``start_date``'s zone (UTC
    without one). ``day_or`` is croniter's: True runs when either day-of-month or day-of-week
    matches, False only when both do."""

    type_name = "CronClock"

    def __init__(
        self,
        cron: str,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
        day_or: bool | None = None,
    ) -> None:
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ScheduleError(f"{cron!r} is not a valid cron expression")
        self.cron = cron
        self.day_or = True if day_or is None else bool(day_or)
        super().__init__(start_date, end_date, parameter_defaults, labels)

    def times(self, after: datetime) -> Iterator[datetime]:
        tz = self.start_date.tzinfo if self.start_date is not None else UTC
        local = after.astimezone(tz).replace(tzinfo=None)
        it = croniter(self.cron, local, day_or=self.day_or)
        while True:
            naive = it.get_next(datetime)
            yield normalize(naive.replace(tzinfo=tz, fold=0))

    def serialize(self) -> dict[str, Any]:
        return {**self._base_document(), "cron": self.cron, "day_or": self.day_or}


class DatesClock(Clock):
    """At each of ``dates``; its start and end dates are the first and last of them."""

    type_name = "DatesClock"

    def __init__(
        self,
        dates: list[datetime],
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        if isinstance(dates, datetime | str) or not dates:
            raise ScheduleError("DatesClock needs a non-empty list of datetimes")
        values = [aware(d, "DatesClock dates") for d in dates]
        values = [normalize(d) for d in values if d is not None]
        self.dates = sorted({_utc(d): d for d in values if d is not None}.values(), key=_utc)
        super().__init__(self.dates[0], self.dates[-1], parameter_defaults, labels)

    def times(self, after: datetime) -> Iterator[datetime]:
        yield from (d for d in self.dates if _utc(d) > _utc(after))

    def serialize(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "dates": [datetime_to_json(d) for d in self.dates],
            "parameter_defaults": self.parameter_defaults,
            "labels": self.labels,
        }


class RRuleClock(Clock):
    """At the times of a dateutil ``rrule`` (its ``dtstart``'s zone; naive means UTC)."""

    type_name = "RRuleClock"

    def __init__(
        self,
        rrule_obj: rrule.rrule,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        if not isinstance(rrule_obj, rrule.rrule):
            raise ScheduleError(
                f"RRuleClock needs a dateutil.rrule.rrule, not {type(rrule_obj).__name__}"
                " (an rruleset has no JSON form the server could read)"
            )
        self.rrule = rrule_obj
        super().__init__(start_date, end_date, parameter_defaults, labels)

    @property
    def dtstart(self) -> datetime:
        return self.rrule._dtstart

    def times(self, after: datetime) -> Iterator[datetime]:
        tz = self.dtstart.tzinfo
        if tz is None:
            base = _utc(after).replace(tzinfo=None)
            for naive in self.rrule.xafter(base, inc=False):
                yield naive.replace(tzinfo=UTC)
        else:
            for when in self.rrule.xafter(after.astimezone(tz), inc=False):
                yield normalize(when)

    def serialize(self) -> dict[str, Any]:
        lines = [ln for ln in str(self.rrule).splitlines() if not ln.startswith("DTSTART")]
        start = self.dtstart
        return {
            **self._base_document(),
            "rrule": "\n".join(lines),
            "dtstart": start.isoformat() if start.tzinfo is None else datetime_to_json(start),
        }
