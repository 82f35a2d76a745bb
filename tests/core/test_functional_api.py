"""Building flows by calling tasks inside ``with Flow(...)``."""

from __future__ import annotations

from headrace import Flow, Parameter, flatten, task, unmapped
from headrace.core import builtins
from headrace.core.edge import Edge


@task
def one() -> int:
    return 1


@task
def add(x: int, y: int = 0) -> int:
    return x + y


@task
def collect(items: object) -> object:
    return items


@task(nout=2)
def pair() -> tuple[int, int]:
    return 3, 4


def test_positional_and_keyword_arguments_become_keyed_edges() -> None:
    with Flow("f") as flow:
        a = one()
        b = one()
        c = add(a, y=b)
    assert c is not add  # calling adds a copy
    assert flow.edges == {Edge(a, c, "x"), Edge(b, c, "y")}
    assert flow.run().result[c].result == 2


def test_constants_are_not_tasks() -> None:
    with Flow("f") as flow:
        c = add(5, y=7)
    assert flow.tasks.keys() == {c}
    assert flow.constants[c] == {"x": 5, "y": 7}
    assert not flow.edges
    assert flow.run().result[c].result == 12


def test_calling_a_task_twice_adds_two_tasks() -> None:
    with Flow("f") as flow:
        first = add(1)
        second = add(2)
    assert first is not second
    assert len(flow.tasks) == 2
    assert sorted(flow.slugs.values()) == ["add-1", "add-2"]
    state = flow.run()
    assert [state.result[first].result, state.result[second].result] == [1, 2]


def test_upstream_tasks_add_ordering_only_edges() -> None:
    with Flow("f") as flow:
        a = one()
        b = add(1, upstream_tasks=[a])
    assert flow.edges == {Edge(a, b)}
    assert flow.upstream_tasks(b) == {a}


def test_nout_unpacks_into_item_tasks() -> None:
    with Flow("f") as flow:
        x, y = pair()
        total = add(x, y)
    assert isinstance(x, builtins.GetItem) and isinstance(y, builtins.GetItem)
    assert flow.run().result[total].result == 7


def test_collections_of_tasks_become_collection_tasks() -> None:
    with Flow("f") as flow:
        a, b = one(), add(1, 1)
        as_list = collect([a, b, 3])
        as_tuple = collect((a, b))
        as_set = collect({a, b})
        as_dict = collect({"a": a, "b": b, "c": 5})
        nested = collect([[a], {"k": b}])
    state = flow.run()
    assert state.is_successful()
    assert state.result[as_list].result == [1, 2, 3]
    assert state.result[as_tuple].result == (1, 2)
    assert state.result[as_set].result == {1, 2}
    assert state.result[as_dict].result == {"a": 1, "b": 2, "c": 5}
    assert state.result[nested].result == [[1], {"k": 2}]
    kinds = {type(t) for t in flow.tasks}
    assert {builtins.List, builtins.Tuple, builtins.Set, builtins.Dict} <= kinds


def test_map_marks_edges_mapped_and_unmapped_holds_constant() -> None:
    with Flow("f") as flow:
        n = Parameter("n", default=[1, 2])
        m = add.map(n, y=unmapped(one()))
    edges = {e.key: e for e in flow.edges_to(m)}
    assert edges["x"].mapped is True
    assert edges["y"].mapped is False
    assert flow.run().result[m].result == [2, 3]


def test_mapping_over_a_plain_list_makes_a_constant_task() -> None:
    with Flow("f") as flow:
        m = add.map([1, 2, 3], y=unmapped(10))
    (edge,) = flow.edges_to(m)
    assert isinstance(edge.upstream_task, builtins.Constant)
    assert flow.constants[m] == {"y": 10}
    assert flow.run().result[m].result == [11, 12, 13]


def test_flatten_marks_the_edge_flattened() -> None:
    with Flow("f") as flow:
        m = add.map(flatten([[1, 2], [3]]))
    (edge,) = flow.edges_to(m)
    assert edge.mapped and edge.flattened
    assert flow.run().result[m].result == [1, 2, 3]


def test_nested_flows_attach_calls_to_the_innermost() -> None:
    with Flow("outer") as outer:
        a = one()
        with Flow("inner") as inner:
            b = one()
        c = one()
    assert set(outer.tasks) == {a, c}
    assert set(inner.tasks) == {b}
