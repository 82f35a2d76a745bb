"""Prefect 1's model details: flow.tasks as a set, update/replace, plain values in
upstream_tasks, tags(...), nout from annotations, Task.logger, on_failure wiring."""

from __future__ import annotations

import logging
from typing import Any, Tuple  # noqa: UP035 -- Prefect users annotate with typing.Tuple

import pytest

from headrace import Flow, Parameter, Task, tags, task
from headrace.core.builtins import Constant
from headrace.core.errors import DuplicateTaskError, EdgeError, FlowValidationError
from headrace.core.hooks import OnFailure


@task
def one() -> int:
    return 1


@task
def inc(x: int) -> int:
    return x + 1


@task
def pair() -> Tuple[int, str]:  # noqa: UP006
    return 1, "a"


@task
def triple() -> tuple[int, int, int]:
    return 1, 2, 3


@task
def many() -> tuple[int, ...]:
    return (1,)


def test_flow_tasks_compare_and_combine_like_a_set() -> None:
    with Flow("set") as flow:
        a = one()
        b = inc(a)
    assert flow.tasks == {a, b}
    assert flow.tasks != {a}
    assert flow.tasks | {one} == {a, b, one}
    assert flow.tasks & {a} == {a}
    assert flow.tasks - {a} == {b}
    assert flow.tasks <= {a, b, one}
    assert flow.tasks.issubset({a, b})
    assert list(flow.tasks) == [a, b]  # insertion order kept
    assert flow.copy().tasks == {a, b}


def test_update_merges_another_flows_graph() -> None:
    with Flow("a") as first:
        a = inc(one())
    with Flow("b") as second:
        b = inc(a)
    first.update(second)
    assert b in first.tasks
    assert a in first.upstream_tasks(b)
    assert first.run().result[b].result == 3


def test_update_with_a_parameter_of_the_same_name() -> None:
    with Flow("a") as first:
        inc(Parameter("x"))
    with Flow("b") as second:
        theirs = inc(Parameter("x"))
    with pytest.raises(DuplicateTaskError, match="'x'"):
        first.copy().update(second)
    first.update(second, merge_parameters=True)
    assert len(first.parameters()) == 1
    assert first.run(x=1).result[theirs].result == 2


def test_replace_puts_a_task_in_anothers_place() -> None:
    with Flow("replace") as flow:
        start = one()
        middle = inc(start)
        end = inc(middle)
    flow.set_reference_tasks([middle])
    new = inc.copy(name="other_inc")
    flow.replace(middle, new)
    assert middle not in flow.tasks
    assert flow.upstream_tasks(new) == {start}
    assert flow.downstream_tasks(new) == {end}
    assert flow.reference_tasks() == {new}
    assert flow.run().result[end].result == 3
    flow.replace(start, 10)  # a plain value becomes a constant task
    assert flow.run().result[end].result == 12
    with pytest.raises(FlowValidationError, match="not in the flow"):
        flow.replace(middle, new)
    with Flow("keys") as other:
        fed = inc(one())
    with pytest.raises(EdgeError, match="no argument 'x'"):
        other.replace(fed, one.copy())


def test_plain_values_in_upstream_tasks_are_constant_tasks() -> None:
    with Flow("plain upstream") as flow:
        t = one(upstream_tasks=[5])
    ups = flow.upstream_tasks(t)
    assert len(ups) == 1 and isinstance(next(iter(ups)), Constant)
    assert flow.run().is_successful()


def test_tags_block_tags_tasks_made_or_called_inside_it() -> None:
    with Flow("tags") as flow:
        with tags("etl", "daily"):
            a = one()
            with tags("inner"):
                b = inc(a)

            class Made(Task):
                def run(self) -> int:
                    return 1

            made = Made()
        c = inc(b)
    assert a.tags == {"etl", "daily"}
    assert b.tags == {"etl", "daily", "inner"}
    assert made.tags == {"etl", "daily"}
    assert c.tags == frozenset()
    assert one.tags == frozenset()  # the task called is untouched, its copy is tagged
    assert flow.get_tasks(tags=["inner"]) == [b]
    with pytest.raises(TypeError, match="strings"), tags(1):  # type: ignore[arg-type]
        pass


def test_nout_is_inferred_from_a_fixed_tuple_return_annotation() -> None:
    assert pair.nout == 2
    assert triple.nout == 3
    assert many.nout is None
    assert one.nout is None
    with Flow("unpack") as flow:
        x, y = pair()
    state = flow.run()
    assert (state.result[x].result, state.result[y].result) == (1, "a")


def test_task_logger_is_the_runs_logger() -> None:
    assert isinstance(one.logger, logging.Logger)
    assert one.logger.name == "headrace.task.one"


def test_on_failure_becomes_a_state_handler_and_must_be_callable() -> None:
    def hook(task: object, state: object) -> None: ...

    t = Task(name="t", on_failure=hook)
    assert any(isinstance(h, OnFailure) for h in t.state_handlers)
    assert any(isinstance(h, OnFailure) for h in Flow("f", on_failure=hook).state_handlers)
    with pytest.raises(TypeError, match="on_failure"):
        Task(name="t", on_failure=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="task_run_name"):
        Task(name="t", task_run_name=3)  # type: ignore[arg-type]


def test_all_edges_by_task_and_prefect_import_paths() -> None:
    with Flow("edges") as flow:
        a = one()
        b = inc(a)
    assert flow.all_upstream_edges()[b] == set(flow.edges_to(b))
    assert flow.all_downstream_edges()[a] == set(flow.edges_from(a))
    assert flow.all_upstream_edges()[a] == set()
    from headrace.engine import cache, cache_validators, serializers
    from headrace.engine.results import serializers as result_serializers

    assert cache_validators.all_inputs is cache.all_inputs
    assert serializers.JSONSerializer is result_serializers.JSONSerializer


def test_inputs_and_outputs_describe_the_run_signature() -> None:
    @task
    def load(path: str, limit: int = 10, verbose=False) -> list[str]:
        return []

    assert load.inputs() == {
        "path": {"type": "str", "required": True, "default": None},
        "limit": {"type": "int", "required": False, "default": 10},
        "verbose": {"type": Any, "required": False, "default": False},
    }
    assert load.outputs() == "list[str]"  # annotations are strings under `from __future__`
    assert one.outputs() == "int"


def test_the_runners_at_prefects_import_path() -> None:
    from headrace.engine import FlowRunner, TaskRunner
    from headrace.engine.flow_runner import FlowRunner as flow_runner_cls
    from headrace.engine.task_runner import TaskRunner as task_runner_cls

    assert (FlowRunner, TaskRunner) == (flow_runner_cls, task_runner_cls)


def test_prefects_top_level_names() -> None:
    import headrace
    from headrace.client import Client
    from headrace.schedules import IntervalSchedule

    assert headrace.Client is Client
    assert headrace.schedules.IntervalSchedule is IntervalSchedule
    for name in ("apply_map", "case", "mapped", "resource_manager", "tags"):
        assert name in headrace.__all__ and hasattr(headrace, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        headrace.no_such_name  # noqa: B018
