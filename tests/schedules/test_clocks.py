"""Each clock against Prefect 1's documented behaviour: start/end dates, parameters and
labels on events, and daylight saving time in a non-UTC zone."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule

from headrace.schedules import (
    ClockEvent,
    CronClock,
    DatesClock,
    IntervalClock,
    RRuleClock,
    Schedule,
    ScheduleError,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def utc_hours(times: list[datetime]) -> list[int]:
    return [t.astimezone(UTC).hour for t in times]


def local(times: list[datetime], tz: ZoneInfo) -> list[str]:
    return [t.astimezone(tz).strftime("%m-%d %H:%M %Z") for t in times]


def test_interval_clock_without_start_is_anchored_at_2019_and_strictly_after() -> None:
    clock = IntervalClock(timedelta(hours=7))
    after = datetime(2019, 1, 1, 7, tzinfo=UTC)
    times = [e.start_time for e in itertools.islice(clock.events(after=after), 2)]
    assert times == [datetime(2019, 1, 1, 14, tzinfo=UTC), datetime(2019, 1, 1, 21, tzinfo=UTC)]


def test_interval_clock_includes_its_start_and_end_dates() -> None:
    clock = IntervalClock(timedelta(days=1), start_date=T0, end_date=T0 + timedelta(days=2))
    times = [e.start_time for e in clock.events(after=T0 - timedelta(days=30))]
    assert times == [T0, T0 + timedelta(days=1), T0 + timedelta(days=2)]


def test_hourly_interval_clock_follows_utc_across_fall_back() -> None:
    # Prefect: an hourly clock fires every UTC hour; on the night clocks go back two runs
    # appear at 1am local time, an hour apart.
    clock = IntervalClock(timedelta(hours=1), start_date=datetime(2026, 10, 31, 23, tzinfo=NY))
    times = Schedule([clock]).next(5, after=datetime(2026, 11, 1, 3, tzinfo=UTC))
    assert utc_hours(times) == [4, 5, 6, 7, 8]
    assert [t.astimezone(NY).hour for t in times] == [0, 1, 1, 2, 3]
    assert all(t.tzinfo is NY for t in times)  # events come back in the clock's zone


def test_daily_interval_clock_keeps_local_time_across_spring_forward() -> None:
    # Prefect: intervals of a day or more follow DST, a daily 9am run stays at 9am.
    clock = IntervalClock(timedelta(days=1), start_date=datetime(2026, 3, 6, 9, tzinfo=NY))
    times = Schedule([clock]).next(3, after=datetime(2026, 3, 6, 12, tzinfo=NY))
    assert local(times, NY) == ["03-07 09:00 EST", "03-08 09:00 EDT", "03-09 09:00 EDT"]
    assert utc_hours(times) == [14, 13, 13]


def test_hourly_cron_clock_pauses_two_hours_when_clocks_go_back() -> None:
    # Prefect: cron follows clock times, so the repeated 1am fires once and 2am comes
    # 120 minutes after it.
    clock = CronClock("0 * * * *", start_date=datetime(2026, 10, 1, tzinfo=NY))
    times = Schedule([clock]).next(3, after=datetime(2026, 11, 1, 4, 30, tzinfo=UTC))
    assert local(times, NY) == ["11-01 01:00 EDT", "11-01 02:00 EST", "11-01 03:00 EST"]
    assert times[1].astimezone(UTC) - times[0].astimezone(UTC) == timedelta(hours=2)


def test_hourly_cron_clock_skips_the_missing_hour_when_clocks_go_forward() -> None:
    clock = CronClock("0 * * * *", start_date=datetime(2026, 3, 1, tzinfo=NY))
    times = Schedule([clock]).next(3, after=datetime(2026, 3, 8, 0, 30, tzinfo=NY))
    assert local(times, NY) == ["03-08 01:00 EST", "03-08 03:00 EDT", "03-08 04:00 EDT"]


def test_daily_cron_clock_keeps_local_time_across_dst() -> None:
    clock = CronClock("0 9 * * *", start_date=datetime(2026, 3, 1, tzinfo=BERLIN))
    times = Schedule([clock]).next(3, after=datetime(2026, 3, 28, tzinfo=UTC))
    assert [t.astimezone(BERLIN).hour for t in times] == [9, 9, 9]
    assert utc_hours(times) == [8, 7, 7]


@pytest.mark.parametrize(
    ("day_or", "expected"),
    [
        (True, ["02-06", "02-13", "02-20"]),  # the 13th OR any Friday
        (False, ["02-13", "03-13", "11-13"]),  # Friday the 13th only
    ],
)
def test_cron_clock_day_or(day_or: bool, expected: list[str]) -> None:
    clock = CronClock("0 0 13 * 5", day_or=day_or)
    times = Schedule([clock]).next(3, after=datetime(2026, 2, 1, tzinfo=UTC))
    assert [t.strftime("%m-%d") for t in times] == expected


def test_dates_clock_fires_once_at_each_date() -> None:
    dates = [T0 + timedelta(days=3), T0 + timedelta(days=1), T0 + timedelta(days=1)]
    clock = DatesClock(dates, parameter_defaults={"x": 1})
    assert clock.start_date == T0 + timedelta(days=1)
    assert clock.end_date == T0 + timedelta(days=3)
    assert Schedule([clock]).next(5, after=T0) == [T0 + timedelta(days=1), T0 + timedelta(days=3)]
    assert Schedule([clock]).next(5, after=T0 + timedelta(days=1)) == [T0 + timedelta(days=3)]


def test_rrule_clock_follows_its_rule_in_the_dtstart_zone() -> None:
    rule = rrule.rrule(
        rrule.WEEKLY,
        byweekday=(rrule.MO, rrule.TH),
        dtstart=datetime(2026, 3, 23, 9, tzinfo=BERLIN),
    )
    times = Schedule([RRuleClock(rule)]).next(4, after=datetime(2026, 3, 23, tzinfo=UTC))
    assert local(times, BERLIN) == [
        "03-23 09:00 CET",
        "03-26 09:00 CET",
        "03-30 09:00 CEST",
        "04-02 09:00 CEST",
    ]


def test_rrule_clock_with_naive_dtstart_is_utc_and_stops_at_count_and_end_date() -> None:
    rule = rrule.rrule(rrule.DAILY, dtstart=datetime(2026, 1, 1, 6), count=3)
    assert Schedule([RRuleClock(rule)]).next(5, after=T0) == [
        datetime(2026, 1, d, 6, tzinfo=UTC) for d in (1, 2, 3)
    ]
    endless = rrule.rrule(rrule.DAILY, dtstart=datetime(2026, 1, 1, 6))
    clock = RRuleClock(endless, end_date=datetime(2026, 1, 2, 6, tzinfo=UTC))
    assert len(Schedule([clock]).next(5, after=T0)) == 2


def test_events_carry_each_clocks_parameters_and_labels() -> None:
    a = IntervalClock(timedelta(hours=12), start_date=T0, parameter_defaults={"who": "a"})
    b = IntervalClock(
        timedelta(days=1), start_date=T0, parameter_defaults={"who": "b"}, labels=["gpu"]
    )
    events = Schedule([a, b]).next(4, after=T0 - timedelta(seconds=1), return_events=True)
    assert all(isinstance(e, ClockEvent) for e in events)
    summary = [(e.start_time.hour, e.parameter_defaults["who"], e.labels) for e in events]
    # At midnight both clocks fire: two events, one per set of parameters.
    assert summary == [(0, "a", None), (0, "b", ["gpu"]), (12, "a", None), (0, "a", None)]


def test_two_clocks_firing_the_same_event_give_it_once() -> None:
    a = IntervalClock(timedelta(hours=1), start_date=T0)
    b = CronClock("0 */2 * * *")
    times = Schedule([a, b]).next(3, after=T0)
    assert times == [T0 + timedelta(hours=h) for h in (1, 2, 3)]


def test_clock_event_compares_with_datetimes() -> None:
    event = ClockEvent(T0)
    assert event == T0
    assert event < T0 + timedelta(seconds=1)
    assert event > T0 - timedelta(seconds=1)
    assert ClockEvent(T0, {"x": 1}) != T0
    assert ClockEvent(T0, {"x": 1}) == ClockEvent(T0.astimezone(NY), {"x": 1})


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: IntervalClock(timedelta(0)), "must be positive"),
        (lambda: IntervalClock(60), "as a timedelta"),  # type: ignore[arg-type]
        (lambda: CronClock("0 0 * *"), "not a valid cron"),
        (lambda: DatesClock([]), "non-empty list"),
        (lambda: RRuleClock("FREQ=DAILY"), "dateutil.rrule.rrule"),  # type: ignore[arg-type]
        (lambda: IntervalClock(timedelta(1), labels="gpu"), "labels"),  # type: ignore[arg-type]
        (lambda: IntervalClock(timedelta(1), parameter_defaults={"x": object()}), "JSON"),
        (
            lambda: CronClock("0 * * * *", start_date=T0, end_date=T0 - timedelta(1)),
            "CronClock's end_date is before its start_date",
        ),
    ],
)
def test_bad_clocks_raise_schedule_errors_naming_the_culprit(make, fragment: str) -> None:
    with pytest.raises(ScheduleError) as info:
        make()
    assert fragment in str(info.value)
