"""``Schedule``: clocks, then filters, then adjustments (Prefect 1's ``Schedule``).

The clocks' events are merged in time order (one event per instant, parameters and labels;
two clocks firing at the same time with different parameters give two runs). An event is
kept when every ``filters`` entry, at least one ``or_filters`` entry (if any) and no
``not_filters`` entry accepts its time; each kept event's time then goes through
``adjustments`` in order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, overload

from headrace.schedules.clocks import Clock, ClockEvent
from headrace.schedules.errors import ScheduleError
from headrace.schedules.rules import rule_document
from headrace.schedules.times import aware

__all__ = ["MAX_CHECKED_EVENTS", "BaseSchedule", "Schedule"]

# How many clock events ``next`` examines at most: a filter that never matches ends the
# search instead of looping for ever (Prefect 1 stops at the same count).
MAX_CHECKED_EVENTS = 10_000

FilterFn = Callable[[datetime], bool]
AdjustmentFn = Callable[[datetime], datetime]


def _callables(values: Iterable[Any] | None, what: str) -> list[Any]:
    items = list(values or [])
    for item in items:
        if not callable(item):
            raise ScheduleError(f"Schedule {what} must be callables, not {item!r}")
    return items


class Schedule:
    """When a flow runs: the union of ``clocks``, narrowed by filters, moved by adjustments.

    A ``Schedule`` with no clocks never fires. ``IntervalSchedule`` and ``CronSchedule``
    (shortcuts for one-clock schedules) given as clocks contribute their clocks.
    """

    def __init__(
        self,
        clocks: Iterable[Clock | Schedule] | None = None,
        filters: Sequence[FilterFn] | None = None,
        or_filters: Sequence[FilterFn] | None = None,
        not_filters: Sequence[FilterFn] | None = None,
        adjustments: Sequence[AdjustmentFn] | None = None,
    ) -> None:
        if clocks is not None and not isinstance(clocks, Iterable):
            raise ScheduleError(f"Schedule clocks must be a list, not {type(clocks).__name__}")
        self.clocks: list[Clock] = []
        for clock in clocks or []:
            if isinstance(clock, Schedule) and clock._is_plain():
                self.clocks.extend(clock.clocks)
            elif isinstance(clock, Clock):
                self.clocks.append(clock)
            else:
                raise ScheduleError(f"Schedule clocks must be clocks, not {type(clock).__name__}")
        self.filters = _callables(filters, "filters")
        self.or_filters = _callables(or_filters, "or_filters")
        self.not_filters = _callables(not_filters, "not_filters")
        self.adjustments = _callables(adjustments, "adjustments")

    def _is_plain(self) -> bool:
        return not (self.filters or self.or_filters or self.not_filters or self.adjustments)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(clocks={self.clocks!r})"

    def _clock_events(self, after: datetime | None) -> Iterator[ClockEvent]:
        """The clocks' events merged by instant, each (instant, parameters, labels) once."""
        merged = heapq.merge(
            *(c.events(after) for c in self.clocks), key=lambda e: e.start_time.astimezone(UTC)
        )
        instant: datetime | None = None
        first: ClockEvent | None = None
        seen: set[tuple[datetime, str, str]] | None = None
        for event in merged:
            when = event.start_time.astimezone(UTC)
            if when != instant:
                instant, first, seen = when, event, None
                yield event
                continue
            # Another event at the same instant: the same run only if all fields match.
            if seen is None:
                assert first is not None
                seen = {first.key()}
            key = event.key()
            if key not in seen:
                seen.add(key)
                yield event

    def _keeps(self, when: datetime) -> bool:
        return (
            all(f(when) for f in self.filters)
            and (not self.or_filters or any(f(when) for f in self.or_filters))
            and not any(f(when) for f in self.not_filters)
        )

    def _adjust(self, when: datetime) -> datetime:
        for adjust in self.adjustments:
            when = adjust(when)
        return when

    @overload
    def next(
        self, n: int, after: datetime | None = None, return_events: Literal[False] = False
    ) -> list[datetime]: ...

    @overload
    def next(
        self, n: int, after: datetime | None, return_events: Literal[True]
    ) -> list[ClockEvent]: ...

    @overload
    def next(
        self, n: int, after: datetime | None = None, *, return_events: Literal[True]
    ) -> list[ClockEvent]: ...

    def next(
        self, n: int, after: datetime | None = None, return_events: bool = False
    ) -> list[datetime] | list[ClockEvent]:
        """The next ``n`` times strictly after ``after`` (default: now), timezone-aware, in
        their clocks' zones; with ``return_events=True`` the :class:`ClockEvent` s, which
        also carry each clock's parameters and labels."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ScheduleError(f"n must be a non-negative int, not {n!r}")
        start = aware(after, "after") or datetime.now(UTC)
        events: list[ClockEvent] = []
        if n == 0:
            return []
        for checked, event in enumerate(self._clock_events(start), start=1):
            if self._keeps(event.start_time):
                events.append(
                    ClockEvent(
                        self._adjust(event.start_time), event.parameter_defaults, event.labels
                    )
                )
            if len(events) >= n or checked >= MAX_CHECKED_EVENTS:
                break
        if return_events:
            return events
        return [e.start_time for e in events]

    def events_between(self, start: datetime, end: datetime) -> list[ClockEvent]:
        """Every kept event from ``start`` to ``end`` (both included), for backfills."""
        lo, hi = aware(start, "start"), aware(end, "end")
        assert lo is not None and hi is not None
        found: list[ClockEvent] = []
        window = self._clock_events(lo - timedelta(microseconds=1))
        for checked, event in enumerate(window, start=1):
            if event.start_time.astimezone(UTC) > hi.astimezone(UTC):
                break
            if self._keeps(event.start_time):
                found.append(
                    ClockEvent(
                        self._adjust(event.start_time), event.parameter_defaults, event.labels
                    )
                )
            if checked >= MAX_CHECKED_EVENTS * 10:
                raise ScheduleError(
                    f"the window {lo.isoformat()} .. {hi.isoformat()} holds more than "
                    f"{MAX_CHECKED_EVENTS * 10} clock events; choose a shorter one"
                )
        return found

    def serialize(self) -> dict[str, Any]:
        """The schedule's JSON document; only headrace's own filters and adjustments have
        one (a plain function is an error naming it)."""
        return {
            "type": "Schedule",
            "clocks": [c.serialize() for c in self.clocks],
            "filters": [rule_document(f, "Schedule filters") for f in self.filters],
            "or_filters": [rule_document(f, "Schedule or_filters") for f in self.or_filters],
            "not_filters": [rule_document(f, "Schedule not_filters") for f in self.not_filters],
            "adjustments": [rule_document(f, "Schedule adjustments") for f in self.adjustments],
        }

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Schedule)
            and type(self) is type(other)
            and self.serialize() == other.serialize()
        )

    def __hash__(self) -> int:
        return hash(repr(self.serialize()))


# The name the schedule interface had before clocks; every schedule is a ``Schedule`` now.
BaseSchedule = Schedule
