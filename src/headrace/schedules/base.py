"""The schedule interface, and ``Schedule``: the union of several schedules."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from headrace.schedules.errors import ScheduleError

__all__ = ["BaseSchedule", "Schedule", "aware"]


def aware(value: datetime | None, what: str) -> datetime | None:
    """``value`` as an aware datetime; naive values are taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ScheduleError(f"{what} must be a datetime, not {type(value).__name__}")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class BaseSchedule:
    """A source of run times. Subclasses implement :meth:`iter_after`."""

    def iter_after(self, after: datetime) -> Iterator[datetime]:
        """Run times strictly after ``after``, ascending, possibly without end."""
        raise NotImplementedError

    def next(self, n: int, after: datetime | None = None) -> list[datetime]:
        """The next ``n`` run times strictly after ``after`` (default: now), tz-aware."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ScheduleError(f"n must be a non-negative int, not {n!r}")
        start = aware(after, "after") or datetime.now(UTC)
        times: list[datetime] = []
        for when in self.iter_after(start):
            if len(times) >= n:
                break
            times.append(when)
        return times

    def serialize(self) -> dict[str, Any]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BaseSchedule)
            and type(self) is type(other)
            and self.serialize() == other.serialize()
        )

    def __hash__(self) -> int:
        return hash(repr(self.serialize()))


class Schedule(BaseSchedule):
    """Runs at the times of every schedule in ``clocks`` (a time shared by two runs once)."""

    def __init__(self, clocks: Iterable[BaseSchedule]) -> None:
        self.clocks = list(clocks)
        if not self.clocks:
            raise ScheduleError("Schedule needs at least one clock")
        for clock in self.clocks:
            if not isinstance(clock, BaseSchedule):
                raise ScheduleError(
                    f"Schedule clocks must be schedules, not {type(clock).__name__}"
                )

    def __repr__(self) -> str:
        return f"Schedule({self.clocks!r})"

    def iter_after(self, after: datetime) -> Iterator[datetime]:
        last = None
        for when in heapq.merge(*(clock.iter_after(after) for clock in self.clocks)):
            if when != last:
                yield when
                last = when

    def serialize(self) -> dict[str, Any]:
        return {"type": "Schedule", "clocks": [c.serialize() for c in self.clocks]}
