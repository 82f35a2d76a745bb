"""Schedules to and from JSON. Only headrace's own clocks, filters and adjustments load: the
server reads these documents and never imports user code.

Documents written before clocks existed (``IntervalSchedule``/``CronSchedule`` with a
separate ``timezone`` key, a ``Schedule`` whose clocks are such documents) still load.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dateutil import rrule

from headrace.schedules.adjustments import ADJUSTMENTS
from headrace.schedules.clocks import Clock, CronClock, DatesClock, IntervalClock, RRuleClock
from headrace.schedules.errors import ScheduleError
from headrace.schedules.filters import FILTERS
from headrace.schedules.rules import load_rule
from headrace.schedules.schedule import Schedule
from headrace.schedules.shortcuts import CronSchedule, IntervalSchedule
from headrace.schedules.times import datetime_from_json, zone_from_name

__all__ = ["clock_from_dict", "schedule_from_dict"]

KNOWN = "Schedule, IntervalSchedule, CronSchedule"
CLOCKS = "IntervalClock, CronClock, DatesClock, RRuleClock"


def _date(doc: dict[str, Any], key: str, kind: str) -> datetime | None:
    value = datetime_from_json(doc.get(key), f"{kind} field {key!r}")
    zone = doc.get("timezone")
    if value is not None and zone and key == "start_date":
        value = value.astimezone(zone_from_name(zone))
    return value


def _seconds(doc: dict[str, Any], kind: str) -> timedelta:
    seconds = doc.get("interval")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ScheduleError(f"{kind} interval must be seconds, not {seconds!r}")
    return timedelta(seconds=seconds)


def _common(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "parameter_defaults": doc.get("parameter_defaults"),
        "labels": doc.get("labels"),
    }


def _rrule(doc: dict[str, Any]) -> rrule.rrule:
    text, raw_start = doc.get("rrule"), doc.get("dtstart")
    if not isinstance(text, str) or not isinstance(raw_start, str):
        raise ScheduleError("RRuleClock document needs 'rrule' and 'dtstart' strings")
    if "[" in raw_start or "+" in raw_start[10:] or raw_start.endswith("Z"):
        start = datetime_from_json(raw_start, "RRuleClock field 'dtstart'")
    else:
        try:
            start = datetime.fromisoformat(raw_start)
        except ValueError:
            raise ScheduleError(
                f"RRuleClock dtstart is not an ISO datetime: {raw_start!r}"
            ) from None
    try:
        parsed = rrule.rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as exc:
        raise ScheduleError(f"RRuleClock rrule {text!r} is invalid: {exc}") from None
    if not isinstance(parsed, rrule.rrule):
        raise ScheduleError(f"RRuleClock rrule {text!r} must be a single RRULE")
    return parsed


def clock_from_dict(doc: Any) -> Clock:
    """The clock a :meth:`Clock.serialize` document (or a legacy shortcut's) describes."""
    if not isinstance(doc, dict):
        raise ScheduleError(f"a clock document must be an object, not {type(doc).__name__}")
    kind = doc.get("type")
    if kind in ("IntervalClock", "IntervalSchedule"):
        return IntervalClock(
            _seconds(doc, str(kind)),
            _date(doc, "start_date", str(kind)),
            _date(doc, "end_date", str(kind)),
            **_common(doc, str(kind)),
        )
    if kind in ("CronClock", "CronSchedule"):
        return CronClock(
            doc.get("cron"),  # type: ignore[arg-type]
            _date(doc, "start_date", str(kind)),
            _date(doc, "end_date", str(kind)),
            day_or=doc.get("day_or", True),
            **_common(doc, str(kind)),
        )
    if kind == "DatesClock":
        dates = doc.get("dates")
        if not isinstance(dates, list):
            raise ScheduleError("DatesClock document needs a list of dates")
        values = [datetime_from_json(d, "DatesClock date") for d in dates]
        return DatesClock([v for v in values if v is not None], **_common(doc, kind))
    if kind == "RRuleClock":
        return RRuleClock(
            _rrule(doc),
            _date(doc, "start_date", kind),
            _date(doc, "end_date", kind),
            **_common(doc, kind),
        )
    raise ScheduleError(f"unknown clock type {kind!r}; expected one of {CLOCKS}")


def _rules(doc: dict[str, Any], key: str, registry: dict[str, Any]) -> list[Any]:
    entries = doc.get(key) or []
    if not isinstance(entries, list):
        raise ScheduleError(f"Schedule document's {key} must be a list")
    return [load_rule(entry, registry, f"Schedule {key}") for entry in entries]


def schedule_from_dict(doc: Any) -> Schedule:
    """The schedule a :meth:`Schedule.serialize` document describes."""
    if not isinstance(doc, dict):
        raise ScheduleError(f"a schedule document must be an object, not {type(doc).__name__}")
    kind = doc.get("type")
    try:
        if kind == "IntervalSchedule":
            clock = clock_from_dict(doc)
            assert isinstance(clock, IntervalClock)
            return IntervalSchedule(clock.start_date, clock.interval, clock.end_date)
        if kind == "CronSchedule":
            cron = clock_from_dict(doc)
            assert isinstance(cron, CronClock)
            return CronSchedule(cron.cron, cron.start_date, cron.end_date, day_or=cron.day_or)
        if kind == "Schedule":
            clocks = doc.get("clocks")
            if not isinstance(clocks, list):
                raise ScheduleError("Schedule document needs a list of clocks")
            return Schedule(
                clocks=[clock_from_dict(c) for c in clocks],
                filters=_rules(doc, "filters", FILTERS),
                or_filters=_rules(doc, "or_filters", FILTERS),
                not_filters=_rules(doc, "not_filters", FILTERS),
                adjustments=_rules(doc, "adjustments", ADJUSTMENTS),
            )
    except OverflowError as exc:
        raise ScheduleError(f"{kind} document is out of range: {exc}") from None
    raise ScheduleError(f"unknown schedule type {kind!r}; expected one of {KNOWN}")
