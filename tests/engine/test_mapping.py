"""Mapping: one child per item, per-child states, reduce, empty lists, chained and nested
maps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.engine.helpers import bump, count

from headrace import Flow, Parameter, context, flatten, task, unmapped
from headrace.engine import state as s
from headrace.executors import LocalExecutor
from headrace.triggers import all_finished


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def inc(x: int) -> int:
    return x + 1


@task
def fragile(x: int) -> int:
    if x == 2:
        raise ValueError(f"cannot take {x}")
    return x * 10


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task(trigger=all_finished)
def summary(xs: list[Any]) -> list[str]:
    return [type(x).__name__ for x in xs]


@task
def repeat(x: int) -> list[int]:
    return [x] * x


def test_map_over_an_upstream_result(executor: Any) -> None:
    with Flow("map") as flow:
        n = Parameter("n", default=4)
        plus_one = inc.map(numbers(n))
        plus_ten = add.map(plus_one, unmapped(10))
        reduced = total(plus_ten)
    state = flow.run(executor=executor)
    parent = state.result[plus_one]
    assert type(parent) is s.Mapped
    assert parent.n_map_states == 4
    assert all(type(c) is s.Success for c in parent.map_states)
    assert parent.result == [1, 2, 3, 4]
    assert state.result[plus_ten].result == [11, 12, 13, 14]
    assert state.result[reduced].result == 50


def test_map_over_several_arguments_zips_them(executor: Any) -> None:
    with Flow("zip") as flow:
        pairs = add.map([1, 2, 3], [10, 20, 30])
    assert flow.run(executor=executor).result[pairs].result == [11, 22, 33]


def test_a_failing_child_fails_only_its_own_downstream_child(executor: Any) -> None:
    with Flow("children") as flow:
        first = fragile.map([0, 1, 2, 3])
        second = inc.map(first)
        reduce_default = total(second)
        reduce_all = summary(second)
    state = flow.run(executor=executor)
    firsts = state.result[first].map_states
    seconds = state.result[second].map_states
    assert [type(c) for c in firsts] == [s.Success, s.Success, s.Failed, s.Success]
    assert isinstance(firsts[2].result, ValueError)
    assert [type(c) for c in seconds] == [s.Success, s.Success, s.TriggerFailed, s.Success]
    assert [c.result for c in seconds if type(c) is s.Success] == [1, 11, 31]
    # the reduce task sees the failed child
    assert type(state.result[reduce_default]) is s.TriggerFailed
    assert state.result[reduce_all].result == ["int", "int", "NoneType", "int"]
    assert state.is_failed()  # a failed child of a reference task fails the flow


def test_mapping_over_an_empty_list(executor: Any) -> None:
    with Flow("empty") as flow:
        n = Parameter("n", default=0)
        mapped = inc.map(numbers(n))
        again = inc.map(mapped)
        reduced = total(again)
    state = flow.run(executor=executor)
    assert type(state.result[mapped]) is s.Mapped
    assert state.result[mapped].map_states == []
    assert state.result[again].result == []
    assert state.result[reduced].result == 0
    assert state.is_successful()


def test_mapping_over_a_non_sequence_fails_the_parent_with_a_message(executor: Any) -> None:
    with Flow("bad-map") as flow:
        mapped = inc.map(inc(1))
    st = flow.run(executor=executor).result[mapped]
    assert type(st) is s.Failed
    assert "cannot be mapped over" in st.message and "inc" in st.message


def test_mapping_over_a_failed_upstream_trigger_fails(executor: Any) -> None:
    with Flow("failed-up") as flow:
        broken = fragile(2)
        mapped = inc.map(broken)
    st = flow.run(executor=executor).result[mapped]
    assert type(st) is s.TriggerFailed


@task
def record_child(x: int, path: str) -> int:
    bump(path)
    return x


def test_chained_maps_are_expanded_child_by_child(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("chain") as flow:
        a = inc.map([0, 1, 2])
        b = inc.map(a)
        c = record_child.map(b, unmapped(path))
    state = flow.run(executor=executor)
    assert state.result[c].result == [2, 3, 4]
    assert count(path) == 3
    # each child of b has the matching child of a as its only mapped upstream
    assert [st.result for st in state.result[b].map_states] == [2, 3, 4]


class WaitRecordingExecutor(LocalExecutor):
    """Records what the runner waits on: chained maps must not make it wait."""

    def __init__(self) -> None:
        self.waited: list[Any] = []

    def wait(self, futures: Any) -> Any:
        self.waited.append(futures)
        return futures


def test_chained_maps_never_wait_between_levels() -> None:
    # LocalExecutor subclass only: it inspects the runner's calls in this process.
    executor = WaitRecordingExecutor()
    with Flow("no-wait") as flow:
        a = inc.map(numbers(3))
        b = inc.map(a)
        c = inc.map(b)
    state = flow.run(executor=executor)
    assert state.result[c].result == [3, 4, 5]
    # one wait to learn how many items numbers() returned, one for the whole run
    assert len(executor.waited) == 2
    assert isinstance(executor.waited[-1], dict)


def test_map_index_in_context(executor: Any) -> None:
    @task
    def where(x: int) -> tuple[int, int | None]:
        return x, context.get("map_index")

    with Flow("idx") as flow:
        m = where.map([5, 6, 7])
    assert flow.run(executor=executor).result[m].result == [(5, 0), (6, 1), (7, 2)]


def test_nested_maps_with_flatten(executor: Any) -> None:
    with Flow("nested") as flow:
        lists = repeat.map([1, 2, 3])  # [[1], [2, 2], [3, 3, 3]]
        flat = inc.map(flatten(lists))
        reduced = total(flat)
    state = flow.run(executor=executor)
    assert state.result[lists].result == [[1], [2, 2], [3, 3, 3]]
    assert state.result[flat].result == [2, 3, 3, 4, 4, 4]
    assert state.result[reduced].result == 20


def test_flatten_a_plain_list_of_lists(executor: Any) -> None:
    with Flow("flat") as flow:
        flat = inc.map(flatten([[1, 2], [3]]))
    assert flow.run(executor=executor).result[flat].result == [2, 3, 4]


def test_mapped_task_state_handlers_see_the_parent(executor: Any, tmp_path: Path) -> None:
    log = str(tmp_path / "h.log")
    with Flow("mapped-handlers") as flow:
        inc.map([1, 2], task_args={"state_handlers": [log_kind], "tags": [log]})
    flow.run(executor=executor)
    lines = Path(log).read_text().split()
    assert lines.count("Running>Success") == 2  # each child
    assert lines[-1] == "Pending>Mapped"  # then the parent


def log_kind(task: Any, old: s.State, new: s.State) -> None:
    with open(next(iter(task.tags)), "a") as fh:
        fh.write(f"{type(old).__name__}>{type(new).__name__}\n")
