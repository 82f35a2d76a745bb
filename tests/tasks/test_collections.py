"""Constant, collection and function tasks at Prefect's import paths."""

from __future__ import annotations

from typing import Any

from headrace import Flow, task
from headrace.tasks.core.collections import Dict, List, Set, Tuple
from headrace.tasks.core.constants import Constant
from headrace.tasks.core.function import FunctionTask


@task
def inc(x: int) -> int:
    return x + 1


def test_collection_tasks_gather_results(executor: Any) -> None:
    with Flow("collections") as flow:
        as_list = List()(inc(1), 5, Constant(7))
        as_tuple = Tuple()(inc(2), inc(3))
        as_set = Set()(inc(1), inc(1))
        as_dict = Dict()(keys=["a", "b"], values=List()(inc(0), 9))
    state = flow.run(executor=executor)
    assert state.result[as_list].result == [2, 5, 7]
    assert state.result[as_tuple].result == (3, 4)
    assert state.result[as_set].result == {2}
    assert state.result[as_dict].result == {"a": 1, "b": 9}


def test_dict_with_unequal_lengths_fails_naming_the_task() -> None:
    with Flow("bad dict") as flow:
        d = Dict(name="pairs")(keys=["a"], values=[1, 2])
    state = flow.run()
    assert state.result[d].is_failed()
    assert "pairs" in state.result[d].message


def test_function_task_wraps_a_function() -> None:
    doubled = FunctionTask(lambda x: 2 * x, name="double")
    with Flow("function") as flow:
        out = doubled(21)
    assert flow.run().result[out].result == 42
