"""Asking a flow about its graph, and copying flows and tasks."""

from __future__ import annotations

from headrace import Flow, Parameter, task
from headrace.core.edge import Edge


@task
def step(x: int = 0) -> int:
    return x + 1


def diamond() -> tuple[Flow, dict[str, object]]:
    flow = Flow("diamond")
    a = step.copy(name="a", tags=["etl", "extract"])
    b = step.copy(name="b", tags=["etl"])
    c = step.copy(name="c")
    d = step.copy(name="d", slug="the-d")
    flow.add_edge(a, b, key="x")
    flow.add_edge(a, c, key="x")
    flow.add_edge(b, d, key="x")
    flow.add_edge(c, d)
    return flow, {"a": a, "b": b, "c": c, "d": d}


def test_get_tasks_by_name_slug_tags_and_type() -> None:
    flow, t = diamond()
    assert flow.get_tasks(name="a") == [t["a"]]
    assert flow.get_tasks(slug="the-d") == [t["d"]]
    assert flow.get_tasks(slug="b-1") == [t["b"]]
    assert set(flow.get_tasks(tags=["etl"])) == {t["a"], t["b"]}
    assert flow.get_tasks(tags=["etl", "extract"]) == [t["a"]]
    assert flow.get_tasks(name="zzz") == []
    p = Parameter("p", default=1)
    flow.add_task(p)
    assert flow.get_tasks(task_type=Parameter) == [p]
    assert len(flow.get_tasks()) == 5


def test_upstream_downstream_root_terminal() -> None:
    flow, t = diamond()
    assert flow.upstream_tasks(t["d"]) == {t["b"], t["c"]}
    assert flow.downstream_tasks(t["a"]) == {t["b"], t["c"]}
    assert flow.root_tasks() == {t["a"]}
    assert flow.terminal_tasks() == {t["d"]}
    assert flow.edges_to(t["d"]) and all(e.downstream_task is t["d"] for e in flow.edges_to(t["d"]))
    assert {e.downstream_task for e in flow.edges_from(t["a"])} == {t["b"], t["c"]}


def test_sorted_tasks_put_every_task_after_its_upstream() -> None:
    flow, t = diamond()
    order = flow.sorted_tasks()
    assert order[0] is t["a"] and order[-1] is t["d"]
    for edge in flow.edges:
        assert order.index(edge.upstream_task) < order.index(edge.downstream_task)
    # the cached order is refreshed when the graph changes
    e = step.copy(name="e")
    flow.add_edge(t["d"], e)
    assert flow.sorted_tasks()[-1] is e


def test_reference_tasks_default_to_terminal_tasks_and_can_be_set() -> None:
    flow, t = diamond()
    assert flow.reference_tasks() == {t["d"]}
    flow.set_reference_tasks([t["b"]])
    assert flow.reference_tasks() == {t["b"]}


def test_flow_copy_is_independent() -> None:
    flow, t = diamond()
    clone = flow.copy()
    assert clone.tasks.keys() == flow.tasks.keys()
    assert clone.edges == flow.edges
    extra = step.copy(name="extra")
    clone.add_edge(t["d"], extra)
    clone.set_reference_tasks([t["a"]])
    assert extra not in flow.tasks
    assert Edge(t["d"], extra) not in flow.edges
    assert flow.downstream_tasks(t["d"]) == set()
    assert flow.reference_tasks() == {t["d"]}
    assert clone.sorted_tasks()[-1] is extra
    assert extra not in flow.sorted_tasks()
    assert flow.run().is_successful()
    assert clone.run().is_successful()


def test_task_copy_in_a_flow_is_a_new_task() -> None:
    flow, t = diamond()
    clone = t["a"].copy(name="a2")
    assert clone not in flow.tasks
    assert clone.tags == t["a"].tags


def test_a_flow_pickles_inside_and_after_its_with_block() -> None:
    import cloudpickle

    from headrace import Flow, task

    @task
    def one() -> int:
        return 1

    with Flow("pickled") as flow:
        t = one()
        inside = cloudpickle.loads(cloudpickle.dumps(flow))
    after = cloudpickle.loads(cloudpickle.dumps(flow))
    for loaded in (inside, after):
        state = loaded.run()
        assert state.is_successful()
        assert [s.result for s in state.result.values()] == [1]
    assert t in flow.tasks
