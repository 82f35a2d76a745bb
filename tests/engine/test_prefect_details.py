"""Prefect 1's engine details on every executor: on_failure callbacks, task_run_name
templates, DateTimeParameter, flatten over plain lists, a mapped edge without a key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.engine.helpers import bump, count

from headrace import Flow, Parameter, context, flatten, task
from headrace.core.parameter import DateTimeParameter
from headrace.engine import state as s
from headrace.engine.signals import FAIL, SKIP, TRIGGERFAIL


def note_failure(task: Any, state: Any) -> None:
    """An on_failure callback that leaves a mark next to the flow's marks file."""
    bump(context.parameters["marks"])
    Path(context.parameters["marks"] + ".msg").write_text(f"{task.name}: {state.message}")


@task(on_failure=note_failure)
def breaks(marks: str) -> None:
    raise ValueError("broken on purpose")


@task(on_failure=note_failure)
def works(marks: str) -> str:
    return "fine"


@task(task_run_name="load-{item}-{today}")
def named(item: str) -> str:
    return context.task_run_name


@task
def show(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


@task
def length(x: list[int]) -> int:
    return len(x)


@task
def double(x: int) -> int:
    return 2 * x


@task
def numbers() -> list[int]:
    return [1, 2, 3]


@task
def child_index() -> Any:
    return context.map_index


def test_on_failure_runs_once_when_the_task_fails(executor: Any, tmp_path: Path) -> None:
    marks = str(tmp_path / "marks")
    with Flow("on_failure") as flow:
        m = Parameter("marks")
        works(m)
        bad = breaks(m)
    state = flow.run(marks=marks, executor=executor)
    assert state.result[bad].is_failed()
    assert count(marks) == 1
    assert "breaks:" in Path(marks + ".msg").read_text()
    assert "broken on purpose" in Path(marks + ".msg").read_text()


def test_flow_on_failure(tmp_path: Path) -> None:
    seen: list[str] = []
    with Flow("flow on_failure", on_failure=lambda f, st: seen.append(f.name)) as flow:
        breaks(str(tmp_path / "m"))
    assert flow.run().is_failed()
    assert seen == ["flow on_failure"]


def test_task_run_name_is_formatted_from_inputs_and_context(executor: Any) -> None:
    with Flow("names") as flow:
        got = named.map(["a", "b"])
    when = datetime(2024, 5, 6, tzinfo=UTC)
    state = flow.run(executor=executor, context={"scheduled_start_time": when})
    assert state.result[got].result == ["load-a-2024-05-06", "load-b-2024-05-06"]


def test_datetime_parameter_parses_iso_strings(executor: Any) -> None:
    with Flow("dates") as flow:
        when = DateTimeParameter("when", required=False)
        shown = show(when)
    state = flow.run(when="2024-03-01T06:30:00Z", executor=executor)
    assert state.result[shown].result == "2024-03-01T06:30:00+00:00"
    assert flow.run(when=datetime(2024, 1, 2)).result[shown].result == "2024-01-02T00:00:00"
    assert flow.run().result[shown].result is None
    bad = flow.run(when="yesterday-ish")
    failed = bad.result[when]
    assert failed.is_failed()
    assert "'when'" in failed.message and "yesterday-ish" in failed.message


def test_flatten_over_a_plain_list_of_lists(executor: Any) -> None:
    with Flow("flatten") as flow:
        doubled = double.map(flatten([[1, 2], [3], []]))
    assert flow.run(executor=executor).result[doubled].result == [2, 4, 6]


def test_a_mapped_edge_without_a_key_orders_child_by_child(executor: Any) -> None:
    with Flow("keyless") as flow:
        first = double.map(numbers())
        after = child_index.copy()
        after.set_upstream(first, flow=flow, mapped=True)
    state = flow.run(executor=executor)
    assert type(state.result[after]) is s.Mapped
    assert state.result[after].result == [0, 1, 2]


def fail_on_success(flow: Any, old: s.State, new: s.State) -> None:
    if new.is_successful():
        raise FAIL("the flow's handler refused success")


@task
def skip_odd(x: int) -> int:
    if x % 2:
        raise SKIP(f"{x} is odd")
    return x


def test_a_flow_handler_raising_fail_ends_the_flow_failed(executor: Any) -> None:
    with Flow("handler", state_handlers=[fail_on_success]) as flow:
        numbers()
    state = flow.run(executor=executor)
    assert type(state) is s.Failed
    assert state.message == "the flow's handler refused success"


def test_skipped_and_trigger_failed_children_hold_their_signal(executor: Any) -> None:
    with Flow("signals") as flow:
        kept = skip_odd.map([1, 2])
        failed = double.map(length.map([[1], 5]))
    state = flow.run(executor=executor)
    odd, even = state.result[kept].map_states
    assert type(odd) is s.Skipped and isinstance(odd.result, SKIP)
    assert "1 is odd" in str(odd.result)
    assert even.result == 2
    _, bad = state.result[failed].map_states
    assert type(bad) is s.TriggerFailed and isinstance(bad.result, TRIGGERFAIL)
    assert s.Skipped("given", result=None).result is None  # a result given stays


def pass_despite_failures(flow: Any, state: s.State, reference_states: list[s.State]) -> Any:
    if state.is_failed() and len(reference_states) == 2:
        return s.Success(f"{flow.name}: tolerated {sum(r.is_failed() for r in reference_states)}")
    return None


def test_terminal_state_handler_may_replace_the_final_state(executor: Any) -> None:
    with Flow("terminal", terminal_state_handler=pass_despite_failures) as flow:
        numbers()
        length(5)  # fails: an int has no len
    state = flow.run(executor=executor)
    assert type(state) is s.Success
    assert state.message == "terminal: tolerated 1"
    with Flow("untouched", terminal_state_handler=pass_despite_failures) as other:
        numbers()
    assert other.run().message == "All reference tasks succeeded."


@task
def add(x: int, y: int) -> int:
    return x + y


def test_mapped_marks_one_argument_of_a_plain_call(executor: Any) -> None:
    from headrace import mapped

    with Flow("mapped marker") as flow:
        sums = add(mapped([1, 2, 3]), 10)
    state = flow.run(executor=executor)
    assert type(state.result[sums]) is s.Mapped
    assert state.result[sums].result == [11, 12, 13]


def test_never_use_and_is_serializable() -> None:
    import threading

    from headrace.engine.cache_validators import never_use
    from headrace.utilities.debug import is_serializable

    assert never_use(None, {}, {}) is False
    assert is_serializable({"a": [1, 2]})
    assert not is_serializable(threading.Lock())
    with pytest.raises(TypeError):
        is_serializable(threading.Lock(), raise_on_error=True)
