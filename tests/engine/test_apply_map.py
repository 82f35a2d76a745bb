"""``apply_map``: a function that builds tasks, mapped as a whole (with ``case`` inside),
on every executor."""

from __future__ import annotations

from typing import Any

import pytest

from headrace import Flow, Parameter, apply_map, case, task, unmapped
from headrace.core.errors import NoActiveFlowError
from headrace.engine import state as s
from headrace.tasks.control_flow import merge


@task
def inc(x: int) -> int:
    return x + 1


@task
def is_even(x: int) -> bool:
    return x % 2 == 0


@task
def half(x: int) -> int:
    return x // 2


@task
def negate(x: int) -> int:
    return -x


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def numbers(n: int) -> list[int]:
    return list(range(1, n + 1))


@task
def total(xs: list[int]) -> int:
    return sum(xs)


def branchy(x: Any, offset: Any) -> Any:
    y = inc(x)
    even = is_even(y)
    with case(even, True):
        a = half(y)
    with case(even, False):
        b = negate(y)
    return add(merge(a, b), offset)


def test_each_task_of_the_function_becomes_a_mapped_task(executor: Any) -> None:
    with Flow("apply_map") as flow:
        n = Parameter("n", default=4)
        out = apply_map(branchy, numbers(n), unmapped(100))
        summed = total(out)
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert state.result[out].result == [101, 97, 102, 95]
    assert state.result[summed].result == 395
    for t in flow.get_tasks(name="half"):
        assert [type(c) for c in state.result[t].map_states] == [
            s.Success,
            s.Skipped,
            s.Success,
            s.Skipped,
        ]


def test_plain_values_are_mapped_over_and_zipped(executor: Any) -> None:
    with Flow("zip") as flow:
        out = apply_map(lambda a, b: add(inc(a), b), [1, 2, 3], [10, 20, 30])
    assert flow.run(executor=executor).result[out].result == [12, 23, 34]


def test_a_task_fed_by_no_mapped_value_stays_unmapped() -> None:
    def body(x: Any) -> tuple[Any, Any]:
        return inc(x), inc(41)

    with Flow("mixed") as flow:
        per_item, once = apply_map(body, [1, 2])
    state = flow.run()
    assert state.result[per_item].result == [2, 3]
    assert type(state.result[once]) is s.Success
    assert state.result[once].result == 42


def test_apply_map_needs_a_flow() -> None:
    with pytest.raises(NoActiveFlowError, match="branchy"):
        apply_map(branchy, [1], unmapped(0))
