"""Mapping: one child per item, per-child states, reduce, empty lists, chained and nested
maps."""

from __future__ import annotations

from itertools import pairwise
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
    # as in Prefect, the trigger-failed child holds the signal that failed it
    assert state.result[reduce_all].result == ["int", "int", "TRIGGERFAIL", "int"]
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


# ---- chunks: a mapped task's children reach the executor in a few calls -------------------


def small_chunks(executor: Any, size: int) -> Any:
    """``executor`` splitting maps into chunks of ``size`` children where it can be told to
    (the Dask executors); LocalExecutor always runs a map as one chunk."""
    if hasattr(executor, "chunk_size"):
        executor.chunk_size = size
    return executor


@task(max_retries=1, retry_delay=0)
def flaky_child(x: int, path: str) -> int:
    """Child 4 fails on its first attempt only; child 7 always fails."""
    attempts = bump(f"{path}-{x}")
    if x == 7 or (x == 4 and attempts == 1):
        raise ValueError(f"child {x} attempt {attempts}")
    return x * 10


@task
def tagged(x: int) -> tuple[int, int | None]:
    return x, context.get("map_index")


def test_children_in_a_chunk_keep_their_own_states_retries_and_index(
    executor: Any, tmp_path: Path
) -> None:
    path = str(tmp_path / "attempts")
    with Flow("chunked") as flow:
        first = flaky_child.map(numbers(10), unmapped(path))
        second = tagged.map(first)
        reduced = summary(second)
    state = flow.run(executor=small_chunks(executor, 3))
    children = state.result[first].map_states
    assert [type(c).__name__ for c in children] == ["Success"] * 7 + ["Failed"] + ["Success"] * 2
    assert "child 7 attempt 2" in str(children[7].message)
    assert [count(f"{path}-{i}") for i in range(10)] == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    # child i downstream got child i upstream (chunk bounds line up), with its own index
    seconds = state.result[second].map_states
    assert [c.result for c in seconds[:7]] == [(i * 10, i) for i in range(7)]
    assert isinstance(seconds[7], s.TriggerFailed)
    assert [c.result for c in seconds[8:]] == [(80, 8), (90, 9)]
    # the reduce (all_finished) got all ten children, in order
    assert state.result[reduced].result[:7] == ["tuple"] * 7
    assert len(state.result[reduced].result) == 10


def test_a_map_zipping_a_chained_map_with_a_shorter_list(executor: Any) -> None:
    with Flow("zip") as flow:
        a = inc.map(numbers(7))
        b = add.map(a, [100, 200, 300, 400, 500])  # 5 children: the shorter input
        c = add.map(b, a)  # chained with both: chunk bounds of b, slices of a's chunks
    state = flow.run(executor=small_chunks(executor, 2))
    assert state.result[b].result == [101, 202, 303, 404, 505]
    assert state.result[c].result == [102, 204, 306, 408, 510]


def test_restart_runs_only_the_children_that_did_not_succeed(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("restart-chunks") as flow:
        m = record_child.map([0, 1, 2, 3, 4], unmapped(path))
    given = s.Mapped(
        map_states=[s.Success(result=0), s.Failed("x"), s.Success(result=2), s.Pending()]
    )
    state = flow.run(executor=small_chunks(executor, 2), task_states={m: given})
    assert state.result[m].result == [0, 1, 2, 3, 4]
    assert count(path) == 3  # children 1, 3 and 4


def test_chunk_bounds_are_contiguous_and_balanced() -> None:
    from headrace.engine.mapping import chunk_bounds

    assert chunk_bounds(0, 4) == []
    assert chunk_bounds(3, 8) == [(0, 1), (1, 2), (2, 3)]
    bounds = chunk_bounds(200, 16)
    assert bounds[0][0] == 0 and bounds[-1][1] == 200
    assert all(a[1] == b[0] for a, b in pairwise(bounds))
    assert {hi - lo for lo, hi in bounds} == {12, 13}


def test_the_chunk_runners_names_still_import_from_mapping() -> None:
    """``headrace.engine.mapping`` keeps offering what moved to ``chunk_runner``."""
    from headrace.engine import chunk_runner, mapping

    for name in ("ChunkRunner", "StateChunk", "join_chunks"):
        assert getattr(mapping, name) is getattr(chunk_runner, name)
        assert name in mapping.__all__
