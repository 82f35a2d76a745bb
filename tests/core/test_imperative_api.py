"""Building flows with set_upstream/set_downstream/bind/add_task/add_edge/chain."""

from __future__ import annotations

import pytest

from headrace import Flow, Task, task
from headrace.core.edge import Edge
from headrace.core.errors import EdgeError


@task
def get_value() -> str:
    return "Example!"


@task
def output_value(value: str) -> str:
    return value.upper()


@task
def noop() -> None:
    return None


class Shout(Task):
    def run(self, text: str) -> str:
        return text + "!"


def test_the_seeds_imperative_pattern_runs() -> None:
    flow = Flow("Custom Environment Example")
    output_value.set_upstream(get_value, flow=flow)
    output_value.bind(value=get_value, flow=flow)
    assert flow.tasks.keys() == {get_value, output_value}
    assert flow.edges == {Edge(get_value, output_value), Edge(get_value, output_value, "value")}
    state = flow.run()
    assert state.is_successful()
    assert state.result[output_value].result == "EXAMPLE!"


def test_seed_pattern_prints_example(capsys: pytest.CaptureFixture[str]) -> None:
    @task
    def printer(value: str) -> None:
        print(value)

    flow = Flow("seed")
    printer.set_upstream(get_value, flow=flow)
    printer.bind(value=get_value, flow=flow)
    assert flow.run().is_successful()
    assert "Example!" in capsys.readouterr().out


def test_set_downstream_with_key_and_inside_a_flow_block() -> None:
    with Flow("f") as flow:
        get_value.set_downstream(output_value, key="value")
    assert flow.edges == {Edge(get_value, output_value, "value")}
    assert flow.run().result[output_value].result == "EXAMPLE!"


def test_set_upstream_with_key() -> None:
    flow = Flow("f")
    s = Shout()
    s.set_upstream(get_value, key="text", flow=flow)
    assert flow.run().result[s].result == "Example!!"


def test_bind_uses_the_task_itself_not_a_copy() -> None:
    flow = Flow("f")
    s = Shout()
    returned = s.bind(text="hi", flow=flow)
    assert returned is s
    assert flow.tasks.keys() == {s}
    assert flow.constants[s] == {"text": "hi"}


def test_add_task_add_edge_and_chain() -> None:
    flow = Flow("f")
    a, b, c = noop.copy(), noop.copy(), noop.copy()
    assert flow.add_task(a) is a
    assert flow.add_task(a) is a  # once only
    edge = flow.add_edge(a, b)
    assert edge == Edge(a, b)
    assert flow.add_edge(a, b) == edge  # same edge twice is one edge
    assert len(flow.edges) == 1
    edges = flow.chain(b, c)
    assert edges == [Edge(b, c)]
    assert flow.sorted_tasks() == [a, b, c]


def test_set_dependencies_in_one_call() -> None:
    flow = Flow("f")
    s, before, after = Shout(), noop.copy(), noop.copy()
    flow.set_dependencies(
        s, upstream_tasks=[before], downstream_tasks=[after], keyword_tasks={"text": get_value}
    )
    assert flow.upstream_tasks(s) == {before, get_value}
    assert flow.downstream_tasks(s) == {after}
    assert flow.run().result[s].result == "Example!!"


def test_imperative_map() -> None:
    flow = Flow("f")
    s = Shout()
    s.bind(text=["a", "b"], mapped=True, flow=flow)
    assert flow.run().result[s].result == ["a!", "b!"]


def test_constructor_takes_tasks_and_edges() -> None:
    a, b = noop.copy(), noop.copy()
    flow = Flow("f", tasks=[a], edges=[Edge(a, b)], reference_tasks=[a])
    assert flow.tasks.keys() == {a, b}
    assert flow.reference_tasks() == {a}


def test_add_edge_keyed_to_a_missing_argument_is_refused() -> None:
    flow = Flow("f")
    with pytest.raises(EdgeError, match=r"'nope'") as info:
        flow.add_edge(get_value, Shout(name="shouter"), key="nope")
    assert "shouter" in str(info.value)
    assert not flow.edges
