"""Running the linear chains of a dask graph as one dask task each, for the local
schedulers.

dask's threaded scheduler hands every task to a worker thread and every result back to
the scheduling thread: two thread wake-ups per task, which on a busy machine cost more
than a small task itself (a 1,000-task chain spent ~100 µs per task in them, the engine's
own work being ~15 µs). Where a task's only pending dependency is a task that nothing else
waits for, nothing can run between the two anyway, so :func:`fuse_chains` makes such runs
of tasks one dask task that calls them in order on the same thread. Every task of a chain
still runs through its own node (its own call, its own result; no dask task spec is built
for it, see :class:`~headrace.executors.graph.Node`), and each result is
written to ``sink`` (the executor's results) as soon as it exists: the flow runner wants
every task's state, not only the chain's last.

No parallelism is lost: a chain starts when its first task could have started (the
chain's other tasks depend on nothing else still pending), and each following task could
only have started once the previous one finished. Results travel through ``sink``, which
the chain writes in its own process, so this is for in-process schedulers only (threads,
sync).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace.executors._dask import GraphNode, Task, TaskRef
from headrace.executors.graph import Node, as_dask

__all__ = ["Chain", "fuse_chains"]


class Chain:
    """Calls a chain's nodes in order, each with the values of its dependencies, and
    writes every result to ``sink``; returns the last node's result."""

    __slots__ = ("inputs", "nodes", "sink")

    def __init__(
        self, nodes: list[Node | GraphNode], inputs: tuple[Any, ...], sink: dict[Any, Any]
    ):
        self.nodes = nodes
        self.inputs = inputs  # the keys of the values given to __call__, in order
        self.sink = sink

    def __repr__(self) -> str:
        return f"<Chain of {len(self.nodes)} from {self.nodes[0].key!r}>"

    def __call__(self, *given: Any) -> Any:
        known = dict(zip(self.inputs, given, strict=True))
        sink = self.sink
        value: Any = None
        for node in self.nodes:
            if type(node) is Node:  # called directly: no dask task spec for it
                value = node(*[known[k] for k in node.dependencies])
            else:
                value = node({k: known[k] for k in node.dependencies})
            known[node.key] = sink[node.key] = value
        return value


def _is_call(node: Any) -> bool:
    """Whether a graph entry is a call (a pending node or a dask task), not data."""
    return type(node) is Node or isinstance(node, Task)


def fuse_chains(dsk: Mapping[Any, Node | GraphNode], sink: dict[Any, Any]) -> dict[Any, GraphNode]:
    """``dsk`` as a dask graph with each chain of calls made one dask task named after the
    chain's last key (whose dependents need nothing else); the other calls each get their
    own dask task spec (:meth:`Node.task`). A call joins the chain of its dependency when
    that is its only dependency that is a call in ``dsk`` and the call is that dependency's
    only dependent in ``dsk``. The values of a chain's other keys reach ``sink`` when it
    runs, not the scheduler's results."""
    dependents: dict[Any, list[Any]] = {}
    for key, node in dsk.items():
        for dep in node.dependencies:
            if dep in dsk:
                dependents.setdefault(dep, []).append(key)
    successor: dict[Any, Any] = {}  # a call -> the call that runs right after it, inline
    has_predecessor: set[Any] = set()
    for key, node in dsk.items():
        if not _is_call(node):
            continue
        pending = [d for d in node.dependencies if _is_call(dsk.get(d))]
        if len(pending) == 1 and len(dependents[pending[0]]) == 1:
            successor[pending[0]] = key
            has_predecessor.add(key)
    out: dict[Any, GraphNode] = {}
    for key, node in dsk.items():
        if key in has_predecessor:
            continue  # runs inside the chain that starts at its first call
        if key not in successor:
            out[key] = as_dask(node)
            continue
        nodes = [node]
        while nodes[-1].key in successor:
            nodes.append(dsk[successor[nodes[-1].key]])
        members = {n.key for n in nodes}
        inputs = tuple(dict.fromkeys(d for n in nodes for d in n.dependencies if d not in members))
        last = nodes[-1].key
        out[last] = Task(last, Chain(nodes, inputs, sink), *(TaskRef(k) for k in inputs))
    return out
