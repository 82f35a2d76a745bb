"""Linear chains of a local dask graph run as one dask task: which tasks are fused (only
those that could not have run in parallel anyway), and every task's result still comes
back."""

from __future__ import annotations

from typing import Any

from dask._task_spec import DataNode, Task, TaskRef
from dask.threaded import get

from headrace.executors import LocalDaskExecutor
from headrace.executors.chains import Chain, fuse_chains
from headrace.executors.graph import GraphBuilder


def add(*xs: int) -> int:
    return sum(xs) + 1


def graph(edges: dict[str, tuple[str, ...]]) -> tuple[dict[Any, Any], dict[str, str]]:
    """A graph of ``add`` calls: name -> the names it takes (built in the given order)."""
    builder = GraphBuilder()
    refs: dict[str, Any] = {}
    for name, deps in edges.items():
        refs[name] = builder.add(add, tuple(refs[d] for d in deps), {})
    return builder.take(), {name: ref.key for name, ref in refs.items()}


def chains_of(fused: dict[Any, Any], keys: dict[str, str]) -> list[list[str]]:
    names = {key: name for name, key in keys.items()}
    return [
        [names[n.key] for n in node.func.nodes]
        for node in fused.values()
        if isinstance(node, Task) and isinstance(node.func, Chain)
    ]


def test_a_chain_becomes_one_task_and_every_result_reaches_the_sink() -> None:
    dsk, keys = graph({"a": (), "b": ("a",), "c": ("b",), "d": ("c",)})
    sink: dict[Any, Any] = {}
    fused = fuse_chains(dsk, sink)
    assert list(fused) == [keys["d"]]
    assert chains_of(fused, keys) == [["a", "b", "c", "d"]]
    assert get(fused, [keys["d"]]) == (4,)
    assert {k: sink[v] for k, v in keys.items()} == {"a": 1, "b": 2, "c": 3, "d": 4}


def test_only_tasks_that_could_not_run_in_parallel_are_fused() -> None:
    # a feeds b and c (fan-out): neither joins a; d takes b and c (fan-in): joins neither;
    # e follows d alone: joins it; f takes e and the finished value v: joins e
    dsk, keys = graph({"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c"), "e": ("d",)})
    dsk["v"] = DataNode("v", 10)
    dsk["f"] = Task("f", add, TaskRef(keys["e"]), TaskRef("v"))
    keys["f"], keys["v"] = "f", "v"
    fused = fuse_chains(dsk, {})
    assert sorted(chains_of(fused, keys)) == [["d", "e", "f"]]
    assert keys["b"] in fused and keys["c"] in fused and keys["a"] in fused
    assert keys["d"] not in fused and keys["e"] not in fused  # inside the chain named f


def test_no_chain_leaves_each_call_a_dask_task_of_its_own() -> None:
    dsk, keys = graph({"a": (), "b": (), "c": ("a", "b")})
    fused = fuse_chains(dsk, {})
    assert list(fused) == list(dsk) and chains_of(fused, keys) == []
    assert all(isinstance(node, Task) and node.func is dsk[k] for k, node in fused.items())
    assert get(fused, [keys["c"]]) == (3,)


def test_a_chain_builds_no_dask_task_spec_for_its_members(monkeypatch: Any) -> None:
    from headrace.executors.graph import Node

    built: list[str] = []
    original = Node.task

    def counted(self: Node) -> Task:
        built.append(self.key)
        return original(self)

    monkeypatch.setattr(Node, "task", counted)
    dsk, keys = graph({"a": (), "b": ("a",), "c": ("b",), "d": (), "e": ("c", "d")})
    fused = fuse_chains(dsk, {})
    assert chains_of(fused, keys) == [["a", "b", "c"]]
    assert sorted(built) == sorted([keys["d"], keys["e"]])  # one spec each, none per member
    assert get(fused, [keys["e"]]) == (5,)


def test_a_node_finds_refs_nested_in_its_arguments_and_keeps_plain_ones_as_they_are() -> None:
    builder = GraphBuilder()
    a = builder.add(add, (1,), {})
    b = builder.add(add, (2,), {})
    context = {"flow_name": "f", "parameters": {"p": [1, 2]}}
    up = {"x": a, "ys": [b, (a, 3)]}
    ref = builder.add(lambda up, ctx, n=0: (up, ctx, n), (up, context), {"n": b})
    node = builder.pending[ref.key]
    assert node.dependencies == (a.key, b.key) and node.with_refs == (0, "n")
    assert node.args[1] is context  # searched once, kept as it is
    got_up, got_ctx, got_n = node(2, 3)
    assert got_up == {"x": 2, "ys": [3, (2, 3)]} and got_ctx is context and got_n == 3
    assert up == {"x": a, "ys": [b, (a, 3)]}  # the submitted arguments are left alone
    dsk = fuse_chains(builder.take(), {})
    assert get(dsk, [ref.key])[0][0] == {"x": 2, "ys": [3, (2, 3)]}


def test_threads_run_a_chain_as_one_dask_task_and_wait_returns_each_result() -> None:
    from dask.callbacks import Callback

    ran: list[Any] = []
    executor = LocalDaskExecutor("threads", num_workers=2)
    with executor.start(), Callback(pretask=lambda key, dsk, state: ran.append(key)):
        refs = [executor.submit(add, 0)]
        for _ in range(20):
            refs.append(executor.submit(add, refs[-1]))
        assert executor.wait(refs[5]) == 6  # an early wait: only what it needs
        assert executor.wait(refs) == list(range(1, 22))
    # dask handed a thread two tasks (the early wait's chain, then the rest), not 21
    assert ran == [refs[5].key, refs[-1].key]
