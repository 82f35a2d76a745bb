"""Engine names Prefect 0.15 users import: ``signal_from_state``, the ``DateTimeSerializer``
and ``CompressedSerializer``, the older ``headrace.engine.executors`` path, and
``VarArgsTask``/``RRuleSchedule``/``is_day_of_week`` from the task and schedule libraries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from dateutil.rrule import DAILY, rrule

from headrace import Flow
from headrace.engine import state
from headrace.engine.executors import LocalExecutor
from headrace.engine.results import LocalResult
from headrace.engine.serializers import (
    CompressedSerializer,
    DateTimeSerializer,
    JSONSerializer,
    PickleSerializer,
)
from headrace.engine.signals import FAIL, PAUSE, SKIP, SUCCESS, TRIGGERFAIL, signal_from_state
from headrace.executors import LocalExecutor as Executor
from headrace.schedules import RRuleSchedule, Schedule, schedule_from_dict
from headrace.schedules.clocks import IntervalClock
from headrace.schedules.errors import ScheduleError
from headrace.schedules.filters import is_day_of_week
from headrace.tasks.core.collections import VarArgsTask


def test_signal_from_state_names_the_signal_of_each_kind() -> None:
    assert signal_from_state(state.Failed()) is FAIL
    assert signal_from_state(state.TriggerFailed()) is TRIGGERFAIL
    assert signal_from_state(state.Success()) is SUCCESS
    assert signal_from_state(state.Skipped()) is SKIP
    assert signal_from_state(state.Paused()) is PAUSE
    with pytest.raises(ValueError, match="Pending"):
        signal_from_state(state.Pending())


@pytest.mark.parametrize("fmt", ["bz2", "gzip", "lzma", "zlib"])
def test_compressed_serializer_round_trips_and_shrinks(fmt: str, tmp_path: Any) -> None:
    value = {"rows": ["same line"] * 500}
    plain = JSONSerializer()
    packed = CompressedSerializer(plain, format=fmt)
    blob = packed.serialize(value)
    assert len(blob) < len(plain.serialize(value)) / 5
    assert packed.deserialize(blob) == value
    result = LocalResult(dir=str(tmp_path), serializer=packed, location="{task_name}.out")
    written = result.write(value, task_name="t")
    assert result.read(written.location).value == value


def test_compressed_serializer_refuses_unknown_or_double_choices() -> None:
    with pytest.raises(ValueError, match="unknown format 'zip'"):
        CompressedSerializer(PickleSerializer(), format="zip")
    with pytest.raises(ValueError, match="not both"):
        CompressedSerializer(PickleSerializer(), format="gzip", compress=bytes)
    with pytest.raises(ValueError, match="give format"):
        CompressedSerializer(PickleSerializer())


def test_datetime_serializer_keeps_the_zone() -> None:
    when = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    s = DateTimeSerializer()
    assert s.deserialize(s.serialize(when)) == when
    assert s.deserialize(s.serialize(when)).utcoffset() == timedelta(hours=2)


def test_old_executor_path_is_the_same_class() -> None:
    assert LocalExecutor is Executor


class Joined(VarArgsTask):
    def run(self, **inputs: Any) -> str:  # type: ignore[override]
        return "-".join(str(inputs[k]) for k in sorted(inputs))


def test_var_args_task_takes_any_number_of_positional_inputs() -> None:
    with Flow("varargs") as flow:
        j = Joined()(1, 2, 3)
    assert flow.run().result[j].result == "1-2-3"


def test_rrule_schedule_is_one_rrule_clock_and_round_trips() -> None:
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    schedule = RRuleSchedule(rrule(DAILY, dtstart=start, count=3))
    assert isinstance(schedule, Schedule)
    times = schedule.next(5, after=start - timedelta(seconds=1))
    assert times == [start + timedelta(days=d) for d in range(3)]
    again = schedule_from_dict(schedule.serialize())
    assert again.next(5, after=start - timedelta(seconds=1)) == times


def test_is_day_of_week_keeps_one_weekday_and_round_trips() -> None:
    start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    schedule = Schedule(
        clocks=[IntervalClock(timedelta(days=1), start_date=start)],
        filters=[is_day_of_week(2)],
    )
    got = schedule.next(3, after=start - timedelta(seconds=1))
    assert [d.weekday() for d in got] == [2, 2, 2]
    assert schedule_from_dict(schedule.serialize()).next(3, after=start) == got
    with pytest.raises(ScheduleError, match="0-6"):
        is_day_of_week(7)
