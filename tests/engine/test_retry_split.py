"""Prefect's split of retries: ``FlowRunner.run()`` returns a task whose retry starts
later as ``Retrying`` (its downstream tasks wait, the flow is still ``Running``);
``flow.run()`` waits for it and finishes the run. On every executor, mapped too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.engine.helpers import bump, count

from headrace import Flow, Parameter, task, unmapped
from headrace.engine import state as s
from headrace.engine.flow_runner import FlowRunner


@task(max_retries=1, retry_delay=0.5)
def flaky(marks: str) -> int:
    if bump(marks) == 1:
        raise ConnectionError("first attempt fails")
    return 10


@task(max_retries=2, retry_delay=0.3)
def flaky_child(x: int, marks: str) -> int:
    if x == 2 and bump(marks) == 1:
        raise ConnectionError("child 2 fails once")
    return x * 10


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


def test_the_flow_runner_returns_retrying_and_flow_run_finishes(
    executor: Any, tmp_path: Path
) -> None:
    marks = str(tmp_path / "marks")
    with Flow("split") as flow:
        m = Parameter("marks")
        first = flaky(m)
        after = inc(first)
    before = datetime.now(UTC)
    waiting = FlowRunner(flow=flow).run(parameters={"marks": marks}, executor=executor)
    assert type(waiting) is s.Running  # its reference task is still to come
    retrying = waiting.result[first]
    assert type(retrying) is s.Retrying
    assert retrying.start_time is not None and retrying.start_time > before
    assert type(waiting.result[after]) is s.Pending
    assert count(marks) == 1
    # flow.run() comes back for the retry and ends the run
    (tmp_path / "marks").unlink()
    done = flow.run(marks=marks, executor=executor)
    assert done.is_successful()
    assert done.result[after].result == 11
    assert count(marks) == 2


def test_a_mapped_child_retries_later_and_the_reduce_waits(executor: Any, tmp_path: Path) -> None:
    marks = str(tmp_path / "marks")
    with Flow("mapped split") as flow:
        m = Parameter("marks")
        children = flaky_child.map([1, 2, 3], marks=unmapped(m))
        summed = total(children)
    waiting = FlowRunner(flow=flow).run(parameters={"marks": marks}, executor=executor)
    kinds = [type(c) for c in waiting.result[children].map_states]
    assert kinds == [s.Success, s.Retrying, s.Success]
    assert type(waiting.result[summed]) is s.Pending  # waits, does not trigger-fail
    (tmp_path / "marks").unlink()
    done = flow.run(marks=marks, executor=executor)
    assert done.result[summed].result == 60
    assert count(marks) == 2


def test_a_later_pass_keeps_finished_states(tmp_path: Path) -> None:
    with Flow("keep") as flow:
        a = inc(1)
        b = inc(a)
    given = {a: s.Failed("failed earlier")}
    kept = FlowRunner(flow=flow).run(task_states=given, keep_finished=True)
    assert kept.result[a].message == "failed earlier"  # honoured, not run again
    assert isinstance(kept.result[b], s.TriggerFailed)
    rerun = FlowRunner(flow=flow).run(task_states=given)  # the default: restart from failure
    assert rerun.result[b].result == 3


def test_a_task_given_a_scheduled_start_waits_for_it(executor: Any) -> None:
    from datetime import timedelta

    with Flow("scheduled start") as flow:
        a = inc(1)
        b = inc(a)
    start = datetime.now(UTC) + timedelta(seconds=0.4)
    given = {a: s.Scheduled("later", start_time=start)}
    waiting = FlowRunner(flow=flow).run(task_states=given, executor=executor)
    assert type(waiting.result[a]) is s.Scheduled
    assert type(waiting.result[b]) is s.Pending
    done = flow.run(task_states=given, executor=executor)
    assert done.result[b].result == 3
    assert done.result[a].timestamp >= start.timestamp()  # it ran at its start time
