"""Schedules to and from JSON. Only headrace's own schedule types load: the server reads
these documents and never imports user code."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from headrace.schedules.base import BaseSchedule, Schedule
from headrace.schedules.clocks import CronSchedule, IntervalSchedule
from headrace.schedules.errors import ScheduleError

__all__ = ["schedule_from_dict"]


def _date(doc: dict[str, Any], key: str) -> datetime | None:
    raw = doc.get(key)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise ScheduleError(f"schedule field {key!r} is not an ISO datetime: {raw!r}") from None


def schedule_from_dict(doc: Any) -> BaseSchedule:
    """The schedule a :meth:`~BaseSchedule.serialize` document describes."""
    if not isinstance(doc, dict):
        raise ScheduleError(f"a schedule document must be an object, not {type(doc).__name__}")
    kind = doc.get("type")
    try:
        if kind == "IntervalSchedule":
            seconds = doc.get("interval")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ScheduleError(f"IntervalSchedule interval must be seconds, not {seconds!r}")
            return IntervalSchedule(
                start_date=_date(doc, "start_date"),
                interval=timedelta(seconds=seconds),
                end_date=_date(doc, "end_date"),
            )
        if kind == "CronSchedule":
            start = _date(doc, "start_date")
            zone = doc.get("timezone")
            if start is not None and zone:
                try:
                    start = start.astimezone(ZoneInfo(zone))
                except (ZoneInfoNotFoundError, ValueError):
                    raise ScheduleError(f"unknown time zone {zone!r} in CronSchedule") from None
            return CronSchedule(
                doc.get("cron"),  # type: ignore[arg-type]
                start_date=start,
                end_date=_date(doc, "end_date"),
                day_or=doc.get("day_or", True),
            )
        if kind == "Schedule":
            clocks = doc.get("clocks")
            if not isinstance(clocks, list):
                raise ScheduleError("Schedule document needs a list of clocks")
            return Schedule([schedule_from_dict(c) for c in clocks])
    except OverflowError as exc:
        raise ScheduleError(f"{kind} document is out of range: {exc}") from None
    raise ScheduleError(
        f"unknown schedule type {kind!r}; expected IntervalSchedule, CronSchedule or Schedule"
    )
