"""Prefect 1's filters and adjustments, how a Schedule combines them, and the JSON form of a
schedule built from every kind of clock, filter and adjustment."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule

from headrace.schedules import (
    CronClock,
    DatesClock,
    IntervalClock,
    RRuleClock,
    Schedule,
    ScheduleError,
    adjustments,
    filters,
    schedule_from_dict,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NY = ZoneInfo("America/New_York")
FRIDAY = datetime(2026, 1, 2, 10, tzinfo=UTC)  # 2 January 2026 is a Friday


def days(schedule: Schedule, n: int, after: datetime) -> list[str]:
    return [t.strftime("%Y-%m-%d %a %H:%M") for t in schedule.next(n, after=after)]


@pytest.mark.parametrize(
    ("flt", "yes", "no"),
    [
        (filters.is_weekday, datetime(2026, 1, 2), datetime(2026, 1, 3)),
        (filters.is_weekend, datetime(2026, 1, 4), datetime(2026, 1, 5)),
        (filters.is_month_start, datetime(2026, 2, 1, 12), datetime(2026, 2, 2)),
        (filters.is_month_end, datetime(2028, 2, 29), datetime(2028, 2, 28)),  # leap year
        (filters.is_month_end, datetime(2026, 4, 30), datetime(2026, 4, 29)),
        (filters.on_date(3, 15), datetime(2031, 3, 15, 23), datetime(2031, 3, 16)),
        (
            filters.on_datetime(datetime(2026, 5, 1, 12, tzinfo=UTC)),
            datetime(2026, 5, 1, 8, tzinfo=NY),
            datetime(2026, 5, 1, 12, 1, tzinfo=UTC),
        ),
        (filters.at_time(time(9, 30)), datetime(2026, 5, 1, 9, 30), datetime(2026, 5, 1, 9, 31)),
        (
            filters.between_datetimes(datetime(2026, 1, 1), datetime(2026, 1, 31)),
            datetime(2026, 1, 31),
            datetime(2026, 2, 1),
        ),
        (
            filters.between_times(time(9), time(17)),
            datetime(2026, 1, 1, 17),
            datetime(2026, 1, 1, 18),
        ),
        # start after end: the window wraps past midnight
        (
            filters.between_times(time(22), time(2)),
            datetime(2026, 1, 1, 1),
            datetime(2026, 1, 1, 12),
        ),
        (filters.between_dates(3, 1, 3, 31), datetime(2026, 3, 31), datetime(2026, 4, 1)),
        # start later in the year than end: wraps past New Year
        (filters.between_dates(12, 20, 1, 5), datetime(2027, 1, 5), datetime(2026, 12, 19)),
    ],
)
def test_each_filter_keeps_and_drops(flt, yes: datetime, no: datetime) -> None:
    yes = yes if yes.tzinfo else yes.replace(tzinfo=UTC)
    no = no if no.tzinfo else no.replace(tzinfo=UTC)
    assert flt(yes) is True
    assert flt(no) is False


def test_filters_see_the_clocks_local_time() -> None:
    # 15:00 UTC on Friday is 00:00 Saturday in Tokyo: a Tokyo clock's weekday filter drops it.
    clock = CronClock("0 0 * * *", start_date=datetime(2026, 1, 1, tzinfo=TOKYO))
    s = Schedule([clock], filters=[filters.is_weekday])
    assert days(s, 3, after=FRIDAY) == [
        "2026-01-05 Mon 00:00",
        "2026-01-06 Tue 00:00",
        "2026-01-07 Wed 00:00",
    ]


def test_business_hours_on_weekdays() -> None:
    # Prefect's example: hourly, on weekdays, between 9 and 17.
    s = Schedule(
        clocks=[IntervalClock(timedelta(hours=4))],
        filters=[filters.is_weekday, filters.between_times(time(9), time(17))],
    )
    assert days(s, 3, after=FRIDAY) == [
        "2026-01-02 Fri 12:00",
        "2026-01-02 Fri 16:00",
        "2026-01-05 Mon 12:00",
    ]


def test_or_filters_need_one_and_not_filters_none() -> None:
    s = Schedule(
        clocks=[IntervalClock(timedelta(hours=1))],
        or_filters=[filters.at_time(time(9)), filters.at_time(time(17))],
        not_filters=[filters.is_weekend],
    )
    assert days(s, 4, after=FRIDAY) == [
        "2026-01-02 Fri 17:00",
        "2026-01-05 Mon 09:00",
        "2026-01-05 Mon 17:00",
        "2026-01-06 Tue 09:00",
    ]


def test_adjustments_move_kept_events_in_order() -> None:
    # Month ends, moved to the next weekday, then an hour later.
    s = Schedule(
        clocks=[CronClock("0 8 * * *")],
        filters=[filters.is_month_end],
        adjustments=[adjustments.next_weekday, adjustments.add(timedelta(hours=1))],
    )
    # 31 Jan 2026 is a Saturday -> Monday 2 Feb; 28 Feb is a Saturday -> Monday 2 Mar.
    assert days(s, 3, after=FRIDAY) == [
        "2026-02-02 Mon 09:00",
        "2026-03-02 Mon 09:00",
        "2026-03-31 Tue 09:00",
    ]


def test_add_keeps_local_time_for_whole_days_across_dst() -> None:
    before_dst = datetime(2026, 3, 7, 9, tzinfo=NY)
    assert adjustments.add(timedelta(days=1))(before_dst).astimezone(NY).hour == 9
    assert adjustments.add(timedelta(hours=24))(before_dst).astimezone(NY).hour == 9
    assert adjustments.add(timedelta(hours=23))(before_dst).astimezone(NY).hour == 9


def test_next_weekday_keeps_weekdays() -> None:
    assert adjustments.next_weekday(FRIDAY) == FRIDAY
    assert adjustments.next_weekday(FRIDAY + timedelta(days=1)).date() == date(2026, 1, 5)


def test_a_filter_that_never_matches_ends_the_search() -> None:
    s = Schedule([IntervalClock(timedelta(days=1))], filters=[filters.on_date(2, 30)])
    assert s.next(1, after=FRIDAY) == []


def test_every_part_round_trips_through_json() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    s = Schedule(
        clocks=[
            IntervalClock(
                timedelta(hours=1),
                start_date=datetime(2026, 1, 1, tzinfo=NY),
                end_date=datetime(2027, 1, 1, tzinfo=NY),
                parameter_defaults={"x": [1, 2]},
                labels=["a"],
            ),
            CronClock("30 6 * * 1-5", start_date=datetime(2026, 1, 1, tzinfo=berlin), day_or=False),
            DatesClock([datetime(2026, 3, 8, 2, 30, tzinfo=NY)], labels=["once"]),
            RRuleClock(
                rrule.rrule(
                    rrule.MONTHLY, bymonthday=-1, dtstart=datetime(2026, 1, 1, 7, tzinfo=berlin)
                ),
                parameter_defaults={"month_end": True},
            ),
            RRuleClock(
                rrule.rrule(
                    rrule.HOURLY,
                    interval=5,
                    dtstart=datetime(2026, 1, 1),
                    until=datetime(2026, 6, 1),
                )
            ),
        ],
        filters=[filters.between_datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31))],
        or_filters=[
            filters.is_weekday,
            filters.is_month_end,
            filters.on_date(3, 8),
            filters.on_datetime(datetime(2026, 3, 1, 0, tzinfo=UTC)),
        ],
        not_filters=[
            filters.between_times(time(0, 10), time(0, 20)),
            filters.between_dates(12, 24, 12, 26),
            filters.at_time(time(4, 0)),
            filters.is_month_start,
            filters.is_weekend,
        ],
        adjustments=[adjustments.add(timedelta(minutes=5)), adjustments.next_weekday],
    )
    doc = json.loads(json.dumps(s.serialize()))
    loaded = schedule_from_dict(doc)
    assert loaded == s
    after = datetime(2026, 2, 25, tzinfo=UTC)
    assert loaded.next(60, after=after, return_events=True) == s.next(60, after, return_events=True)
    assert [t.tzinfo for t in loaded.next(60, after=after)] == [
        t.tzinfo for t in s.next(60, after=after)
    ]


def test_a_plain_function_filter_runs_locally_but_cannot_be_serialized() -> None:
    def odd_hours(d: datetime) -> bool:
        return d.hour % 2 == 1

    s = Schedule([IntervalClock(timedelta(hours=1))], filters=[odd_hours])
    assert [t.hour for t in s.next(2, after=FRIDAY)] == [11, 13]
    with pytest.raises(ScheduleError, match=r"'test_a_plain_function.*odd_hours' is not one of"):
        s.serialize()


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"type": "Schedule", "clocks": [{"type": "Sundial"}]}, "unknown clock type 'Sundial'"),
        ({"type": "Schedule", "clocks": [], "filters": [{"name": "is_full_moon"}]}, "is_full_moon"),
        (
            {"type": "Schedule", "clocks": [], "filters": [{"name": "on_date", "args": [13, 1]}]},
            "month must be 1-12",
        ),
        (
            {"type": "Schedule", "clocks": [], "adjustments": [{"name": "add", "args": ["1h"]}]},
            "add needs a timedelta",
        ),
        ({"type": "Schedule", "clocks": [], "filters": "is_weekday"}, "filters must be a list"),
        ({"type": "Schedule", "clocks": [{"type": "DatesClock", "dates": ["soon"]}]}, "'soon'"),
        (
            {
                "type": "Schedule",
                "clocks": [
                    {
                        "type": "RRuleClock",
                        "rrule": "RRULE:FREQ=SOMETIMES",
                        "dtstart": "2026-01-01T00:00:00",
                    }
                ],
            },
            "SOMETIMES",
        ),
        (
            {
                "type": "Schedule",
                "clocks": [
                    {
                        "type": "CronClock",
                        "cron": "* * * * *",
                        "start_date": "2026-01-01T00:00:00+00:00[Mars/Olympus]",
                    }
                ],
            },
            "Mars/Olympus",
        ),
    ],
)
def test_malformed_documents_name_the_culprit(doc: dict, fragment: str) -> None:
    with pytest.raises(ScheduleError) as info:
        schedule_from_dict(doc)
    assert fragment in str(info.value)
