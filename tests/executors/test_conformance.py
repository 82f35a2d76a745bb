"""The executor interface, checked the same way on every executor: submit, futures nested in
arguments, submit_many, wait on structures, errors, and start/stop."""

from __future__ import annotations

import operator
from typing import Any

import pytest

from headrace.executors import Executor, LocalExecutor
from headrace.executors.errors import ExecutorConfigError


def add(a: int, b: int = 0) -> int:
    return a + b


def describe(payload: dict[str, Any], items: list[Any], pair: tuple[Any, ...]) -> Any:
    return {"sum": payload["x"] + payload["y"], "items": items, "pair": pair}


def total(values: dict[Any, Any], ctx: dict[str, Any], index: int) -> tuple[int, str, int]:
    return sum(values.values()), ctx["name"], index


def boom(x: int) -> int:
    raise ZeroDivisionError(f"boom on {x}")


def test_submit_and_wait(any_executor: Executor) -> None:
    with any_executor.start():
        future = any_executor.submit(add, 1, 2)
        assert any_executor.wait(future) == 3
        assert any_executor.wait(any_executor.submit(add, future, b=future)) == 6


def test_futures_nested_in_arguments_are_resolved(any_executor: Executor) -> None:
    with any_executor.start():
        one = any_executor.submit(add, 1)
        two = any_executor.submit(add, 2)
        got = any_executor.submit(describe, {"x": one, "y": two}, [one, [two, 3]], (one, "k"))
        assert any_executor.wait(got) == {"sum": 3, "items": [1, [2, 3]], "pair": (1, "k")}


def test_submit_many_with_shared_and_per_call_arguments(any_executor: Executor) -> None:
    """What the flow runner sends for a mapped task: a dict keyed alike in every call, the
    same context object, and a future shared by every call."""
    with any_executor.start():
        base = any_executor.submit(add, 100)
        ctx = {"name": "run"}
        calls = [({"a": base, "b": i}, ctx, i) for i in range(5)]
        futures = any_executor.submit_many(total, calls)
        assert len(futures) == 5
        assert any_executor.wait(futures) == [(100 + i, "run", i) for i in range(5)]
        reduced = any_executor.submit(
            sum, [any_executor.submit(operator.getitem, f, 0) for f in futures]
        )
        assert any_executor.wait(reduced) == 510


def test_submit_many_chains_child_by_child(any_executor: Executor) -> None:
    with any_executor.start():
        first = any_executor.submit_many(add, [(i, 1) for i in range(4)])
        second = any_executor.submit_many(add, [(f, 10) for f in first])
        assert any_executor.wait(second) == [11, 12, 13, 14]


def test_map(any_executor: Executor) -> None:
    with any_executor.start():
        assert any_executor.wait(any_executor.map(add, [1, 2], [10, 20])) == [11, 22]


def test_wait_on_structures_keeps_their_shape(any_executor: Executor) -> None:
    with any_executor.start():
        a = any_executor.submit(add, 1)
        b = any_executor.submit(add, 2)
        got = any_executor.wait({"a": a, "many": [a, (b, "plain")], "value": 7})
        assert got == {"a": 1, "many": [1, (2, "plain")], "value": 7}


def test_waiting_early_then_submitting_more(any_executor: Executor) -> None:
    """The flow runner waits for one result (to learn what to map over), then goes on
    submitting calls that use it and earlier ones; nothing is computed twice."""
    with any_executor.start():
        a = any_executor.submit(add, 3)
        b = any_executor.submit(add, a, 1)
        assert any_executor.wait(b) == 4
        children = any_executor.submit_many(add, [(a, i) for i in range(4)])
        assert any_executor.wait({"c": children, "b": b, "a": a}) == {
            "c": [3, 4, 5, 6],
            "b": 4,
            "a": 3,
        }


def test_an_error_in_a_call_reaches_the_caller(any_executor: Executor) -> None:
    with any_executor.start(), pytest.raises(ZeroDivisionError, match="boom on 4"):
        any_executor.wait(any_executor.submit(boom, 4))


def test_start_is_reusable_and_cleans_up(any_executor: Executor) -> None:
    for n in (1, 2):
        with any_executor.start():
            assert any_executor.wait(any_executor.submit(add, n)) == n
    if isinstance(any_executor, LocalExecutor):
        return
    with pytest.raises(ExecutorConfigError, match="not started"):
        any_executor.submit(add, 1)
    assert getattr(any_executor, "_pool", None) is None
    assert getattr(any_executor, "client", None) is None
