"""Date and time helpers the clocks share: aware datetimes, wall-clock arithmetic across DST,
and the JSON form of a datetime that keeps its IANA time zone.

Prefect 1's clocks live in the time zone of their start date. Adding whole days keeps the
wall-clock time (a daily 09:00 run stays at 09:00 local across a DST switch); adding hours,
minutes and seconds is absolute (an hourly run fires every UTC hour). :func:`add` does both
at once, the way Prefect's pendulum-based clocks and ``adjustments.add`` do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from headrace.schedules.errors import ScheduleError

__all__ = [
    "add",
    "add_days",
    "aware",
    "datetime_from_json",
    "datetime_to_json",
    "normalize",
    "time_from_json",
    "zone_from_name",
]

_ZONED = re.compile(r"^(?P<iso>[^\[\]]+)\[(?P<zone>[^\[\]]+)\]$")


def aware(value: datetime | None, what: str) -> datetime | None:
    """``value`` as an aware datetime; naive values are taken as UTC (as Prefect does)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ScheduleError(f"{what} must be a datetime, not {type(value).__name__}")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def normalize(value: datetime) -> datetime:
    """The same instant as an existing local time of ``value``'s zone.

    Wall-clock arithmetic can land in a DST gap (02:30 on a spring-forward day); such a time
    is read with the offset before the gap and comes back as the real local time after it.
    """
    tz = value.tzinfo
    return value.astimezone(UTC).astimezone(tz)


def add_days(value: datetime, days: int) -> datetime:
    """``value`` moved by ``days`` calendar days, keeping its local wall-clock time."""
    moved = value.replace(tzinfo=None) + timedelta(days=days)
    return normalize(moved.replace(tzinfo=value.tzinfo, fold=value.fold))


def add(value: datetime, delta: timedelta) -> datetime:
    """``value + delta`` with whole days in wall-clock time and the rest absolute."""
    if delta.days:
        value = add_days(value, delta.days)
    rest = delta - timedelta(days=delta.days)
    if rest:
        value = (value.astimezone(UTC) + rest).astimezone(value.tzinfo)
    return value


def zone_from_name(name: str) -> tzinfo:
    """The IANA zone ``name`` (``"UTC"`` included); a ScheduleError names an unknown one."""
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}") from None


def datetime_to_json(value: datetime | None) -> str | None:
    """ISO 8601 with the offset, followed by ``[Zone/Name]`` when the zone is an IANA zone,
    so a clock read back from JSON follows the same DST rules."""
    if value is None:
        return None
    key = getattr(value.tzinfo, "key", None)
    return f"{value.isoformat()}[{key}]" if key else value.isoformat()


def datetime_from_json(raw: object, what: str) -> datetime | None:
    """The datetime :func:`datetime_to_json` wrote (plain ISO 8601 also reads)."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ScheduleError(f"{what} is not an ISO datetime: {raw!r}")
    zone = None
    match = _ZONED.match(raw)
    if match:
        raw, zone = match["iso"], match["zone"]
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ScheduleError(f"{what} is not an ISO datetime: {raw!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone_from_name(zone)) if zone else value


def time_from_json(raw: object, what: str) -> time:
    """A ``time`` from ``"HH:MM[:SS[.ffffff]]"``."""
    if not isinstance(raw, str):
        raise ScheduleError(f"{what} is not an ISO time: {raw!r}")
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ScheduleError(f"{what} is not an ISO time: {raw!r}") from None
