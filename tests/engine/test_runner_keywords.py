"""Prefect's runner keywords: return_tasks, task_contexts, runner_cls, run_on_schedule,
raise_on_exception(), and the start times Prefect's waiting states take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.engine.helpers import bump, count

from headrace import Flow, Parameter, context, task
from headrace.core.errors import FlowValidationError
from headrace.engine import state as s
from headrace.engine.flow_runner import FlowRunner
from headrace.schedules import IntervalSchedule
from headrace.utilities.debug import raise_on_exception


@task
def one() -> int:
    return 1


@task
def inc(x: int) -> int:
    return x + 1


@task
def read_key() -> Any:
    return context.get("extra")


@task
def divide(x: int) -> float:
    return 1 / x


@task
def stamp(marks: str) -> str:
    bump(marks)
    return context.scheduled_start_time.isoformat()


def test_return_tasks_limits_the_states_returned() -> None:
    with Flow("return") as flow:
        a = one()
        b = inc(a)
    state = FlowRunner(flow=flow).run(return_tasks=[b])
    assert state.is_successful()
    assert set(state.result) == {b}
    assert set(flow.run(return_tasks=[a]).result) == {a}
    assert set(flow.run().result) == {a, b}  # without it: every task
    with pytest.raises(FlowValidationError, match="not in the flow"):
        flow.run(return_tasks=[inc])


def test_task_contexts_reach_only_their_task(executor: Any) -> None:
    with Flow("task contexts") as flow:
        mine = read_key()
        other = read_key()
    state = flow.run(executor=executor, task_contexts={mine: {"extra": "just me"}})
    assert state.result[mine].result == "just me"
    assert state.result[other].result is None


def test_runner_cls_is_the_runner_used() -> None:
    class CountingRunner(FlowRunner):
        runs = 0

        def run(self, *args: Any, **kwargs: Any) -> s.State:
            CountingRunner.runs += 1
            return super().run(*args, **kwargs)

    with Flow("runner cls") as flow:
        one()
    assert flow.run(runner_cls=CountingRunner).is_successful()
    assert CountingRunner.runs == 1


def test_run_on_schedule_runs_at_each_time_until_the_schedule_ends(tmp_path: Path) -> None:
    marks = str(tmp_path / "marks")
    start = datetime.now(UTC) + timedelta(seconds=0.2)
    schedule = IntervalSchedule(
        start_date=start, interval=timedelta(seconds=0.2), end_date=start + timedelta(seconds=0.4)
    )
    with Flow("scheduled", schedule=schedule) as flow:
        m = Parameter("marks")
        stamped = stamp(m)
    last = flow.run(marks=marks, run_on_schedule=True)
    assert count(marks) == 3
    assert last.result[stamped].result == (start + timedelta(seconds=0.4)).isoformat()
    # without run_on_schedule (the default) a scheduled flow runs once, now
    assert flow.run(marks=marks).is_successful()
    assert count(marks) == 4


def test_raise_on_exception_lets_a_task_error_escape() -> None:
    with Flow("debug") as flow:
        divide(0)
    with pytest.raises(ZeroDivisionError), raise_on_exception():
        flow.run()
    assert flow.run().is_failed()  # outside the block: an ordinary failed run


def test_waiting_states_take_a_start_time() -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    assert s.Paused("wait", start_time=when).start_time == when
    assert s.Scheduled(start_time=when).start_time == when
    assert s.Retrying(start_time=when).start_time == when
    assert s.Paused().start_time is None
