"""A flow refuses an invalid graph with an error that names what is wrong."""

from __future__ import annotations

import pytest

from headrace import Flow, Parameter, Task, task
from headrace.core.errors import (
    CycleError,
    DuplicateTaskError,
    EdgeError,
    FlowValidationError,
)
from headrace.exceptions import HeadraceError


@task
def step(x: int = 0) -> int:
    return x


@task
def needs(x: int) -> int:
    return x


def test_cycle_names_the_tasks_on_it() -> None:
    flow = Flow("f")
    a, b, c = (step.copy(name=n) for n in ("alpha", "beta", "gamma"))
    flow.chain(a, b, c)
    with pytest.raises(CycleError) as info:
        flow.add_edge(c, a)
    message = str(info.value)
    for name in ("alpha", "beta", "gamma"):
        assert name in message
    assert info.value.cycle == [a, b, c, a]
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, HeadraceError)
    assert len(flow.edges) == 2  # the bad edge was not kept


def test_self_edge_is_a_cycle() -> None:
    flow = Flow("f")
    a = step.copy(name="lonely")
    flow.add_task(a)
    with pytest.raises(CycleError, match=r"lonely"):
        flow.add_edge(a, a)


def test_unvalidated_edges_are_caught_by_validate() -> None:
    flow = Flow("f")
    a, b = step.copy(name="one"), step.copy(name="two")
    flow.add_edge(a, b)
    flow.add_edge(b, a, validate=False)
    with pytest.raises(CycleError, match=r"'one'.*'two'|'two'.*'one'"):
        flow.validate()
    with pytest.raises(CycleError):
        flow.run()


def test_duplicate_parameter_name() -> None:
    flow = Flow("f")
    flow.add_task(Parameter("x"))
    with pytest.raises(DuplicateTaskError, match=r"'x'") as info:
        flow.add_task(Parameter("x", default=2))
    assert isinstance(info.value, ValueError)


def test_duplicate_explicit_slug() -> None:
    flow = Flow("f")
    flow.add_task(step.copy(slug="same"))
    with pytest.raises(DuplicateTaskError, match=r"same"):
        flow.add_task(step.copy(slug="same"))


def test_edge_keyed_to_a_missing_argument() -> None:
    flow = Flow("f")
    with pytest.raises(EdgeError, match=r"'y'") as info:
        flow.add_edge(step, needs, key="y")
    assert "needs" in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(EdgeError, match=r"'y'"):
        needs.set_upstream(step, key="y", flow=flow)
    assert not flow.edges


def test_calling_with_arguments_the_task_does_not_take_is_a_type_error() -> None:
    with Flow("f") as flow:
        with pytest.raises(TypeError, match=r"needs.*'y'"):
            needs(1, y=1)
        with pytest.raises(TypeError, match=r"needs.*'x'"):
            needs()  # a call must feed every required argument
        with pytest.raises(TypeError, match=r"needs"):
            needs.map([1], [2])
    assert not flow.tasks


def test_bind_may_feed_arguments_over_several_calls() -> None:
    flow = Flow("f")
    n = needs.copy()
    n.bind(flow=flow)  # nothing fed yet: allowed, reported by validate()
    with pytest.raises(FlowValidationError, match=r"'needs'.*x"):
        flow.validate()
    n.bind(x=3, flow=flow)
    assert flow.run().result[n].result == 3


def test_two_edges_into_one_argument() -> None:
    flow = Flow("f")
    n = needs.copy(name="target")
    flow.add_edge(step, n, key="x")
    with pytest.raises(EdgeError, match=r"'x'.*target|target.*'x'"):
        flow.add_edge(step.copy(name="other"), n, key="x")
    with pytest.raises(EdgeError, match=r"already"):
        flow.add_constant(n, "x", 5)
    assert isinstance(EdgeError("e"), ValueError)


def test_missing_required_argument_is_found_by_validate() -> None:
    flow = Flow("f")
    flow.add_task(needs.copy(name="hungry"))
    with pytest.raises(FlowValidationError, match=r"hungry.*x"):
        flow.validate()


def test_reference_tasks_must_be_in_the_flow() -> None:
    flow = Flow("f")
    stranger = step.copy(name="stranger")
    with pytest.raises(FlowValidationError, match=r"stranger"):
        flow.set_reference_tasks([stranger])


@pytest.mark.parametrize(
    "call",
    [
        lambda f: f.add_task("not a task"),
        lambda f: f.add_edge(step, "nope"),
        lambda f: Flow(""),
        lambda f: Flow("x", state_handlers=[1]),
    ],
)
def test_wrong_types_are_type_errors(call: object) -> None:
    with pytest.raises(TypeError):
        call(Flow("f"))  # type: ignore[operator]


class NoArgs(Task):
    def run(self) -> int:
        return 1


def test_error_lists_what_the_task_takes() -> None:
    flow = Flow("f")
    with pytest.raises(EdgeError, match=r"no arguments"):
        flow.add_constant(NoArgs(), "x", 1)
