"""Interval, cron and union schedules: next times, time zones, JSON round trips, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from headrace.schedules import (
    CronSchedule,
    IntervalSchedule,
    Schedule,
    ScheduleError,
    schedule_from_dict,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_interval_next_is_strictly_after_and_aligned_to_start() -> None:
    s = IntervalSchedule(start_date=T0, interval=timedelta(minutes=15))
    assert s.next(3, after=T0) == [T0 + timedelta(minutes=m) for m in (15, 30, 45)]
    assert s.next(1, after=T0 + timedelta(minutes=16)) == [T0 + timedelta(minutes=30)]


def test_interval_before_start_begins_at_start_and_stops_at_end() -> None:
    end = T0 + timedelta(hours=2)
    s = IntervalSchedule(start_date=T0, interval=timedelta(hours=1), end_date=end)
    assert s.next(5, after=T0 - timedelta(days=1)) == [T0, T0 + timedelta(hours=1), end]


def test_next_defaults_to_now_and_returns_aware_datetimes() -> None:
    s = IntervalSchedule(interval=timedelta(seconds=10))
    times = s.next(2)
    assert all(t.tzinfo is not None for t in times)
    assert times[0] > datetime.now(UTC) - timedelta(seconds=1)
    assert times[1] - times[0] == timedelta(seconds=10)


def test_naive_datetimes_are_taken_as_utc() -> None:
    s = IntervalSchedule(start_date=datetime(2026, 1, 1), interval=timedelta(days=1))
    assert s.next(1, after=datetime(2026, 1, 1)) == [T0 + timedelta(days=1)]


def test_cron_follows_its_time_zone_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    s = CronSchedule("0 9 * * *", start_date=datetime(2026, 3, 1, tzinfo=berlin))
    times = s.next(3, after=datetime(2026, 3, 28, tzinfo=UTC))
    # 29 March 2026 is the switch to summer time: 09:00 local stays 09:00 local.
    assert [t.astimezone(berlin).hour for t in times] == [9, 9, 9]
    assert [t.astimezone(UTC).hour for t in times] == [8, 7, 7]


def test_cron_respects_start_and_end_dates() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    s = CronSchedule("0 0 * * *", start_date=start, end_date=start + timedelta(days=1))
    assert s.next(5, after=T0) == [start, start + timedelta(days=1)]


def test_union_merges_and_deduplicates() -> None:
    hourly = IntervalSchedule(start_date=T0, interval=timedelta(hours=1))
    half = IntervalSchedule(start_date=T0, interval=timedelta(minutes=30))
    assert Schedule([hourly, half]).next(3, after=T0) == [
        T0 + timedelta(minutes=30),
        T0 + timedelta(hours=1),
        T0 + timedelta(minutes=90),
    ]


def test_a_schedule_without_clocks_never_fires() -> None:
    # Prefect 1 accepts Schedule(clocks=[]); it simply has no next times.
    assert Schedule(clocks=[]).next(3, after=T0) == []


@pytest.mark.parametrize(
    "schedule",
    [
        IntervalSchedule(
            start_date=T0, interval=timedelta(minutes=5), end_date=T0 + timedelta(days=3)
        ),
        CronSchedule(
            "*/10 * * * *", start_date=datetime(2026, 1, 1, tzinfo=ZoneInfo("America/New_York"))
        ),
        Schedule([CronSchedule("0 12 * * 1-5"), IntervalSchedule(interval=timedelta(hours=6))]),
    ],
)
def test_json_round_trip_gives_the_same_times(schedule: Schedule) -> None:
    import json

    loaded = schedule_from_dict(json.loads(json.dumps(schedule.serialize())))
    assert type(loaded) is type(schedule)
    assert loaded.next(10, after=T0) == schedule.next(10, after=T0)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: CronSchedule("61 * * * *"), "'61 * * * *' is not a valid cron"),
        (lambda: CronSchedule(""), "not a valid cron"),
        (lambda: IntervalSchedule(interval=timedelta(0)), "must be positive"),
        (lambda: IntervalSchedule(interval=5), "as a timedelta"),
        (
            lambda: IntervalSchedule(
                start_date=T0, interval=timedelta(1), end_date=T0 - timedelta(1)
            ),
            "end_date",
        ),
        (lambda: Schedule(clocks=5), "clocks must be a list"),
        (lambda: Schedule([lambda d: d]), "clocks must be clocks"),
        (lambda: schedule_from_dict({"type": "RRule"}), "unknown schedule type 'RRule'"),
        (lambda: schedule_from_dict({"type": "IntervalSchedule", "interval": "1h"}), "interval"),
        (
            lambda: schedule_from_dict(
                {"type": "CronSchedule", "cron": "0 * * * *", "start_date": "yesterday"}
            ),
            "start_date",
        ),
        (
            lambda: schedule_from_dict(
                {
                    "type": "CronSchedule",
                    "cron": "0 * * * *",
                    "start_date": "2026-01-01T00:00:00+00:00",
                    "timezone": "Mars/Olympus",
                }
            ),
            "Mars/Olympus",
        ),
        (lambda: schedule_from_dict([1]), "must be an object"),
        (lambda: IntervalSchedule(interval=timedelta(1)).next(-1), "non-negative"),
    ],
)
def test_malformed_schedules_raise_schedule_error_naming_the_culprit(make, fragment) -> None:
    with pytest.raises(ScheduleError, match=None) as info:
        make()
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)
