"""Graph algorithms over a flow's tasks: signatures, reachability, topological order."""

from __future__ import annotations

import inspect
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from headrace.core.errors import CycleError

if TYPE_CHECKING:
    from headrace.core.edge import Edge
    from headrace.core.task import Task

__all__ = ["RunSignature", "call_signature", "find_path", "run_signature", "topological_sort"]


class RunSignature(NamedTuple):
    names: frozenset[str]
    required: frozenset[str]
    var_keyword: bool

    def accepts(self, key: str) -> bool:
        return self.var_keyword or key in self.names


_signatures: dict[Any, RunSignature] = {}
_full_signatures: weakref.WeakKeyDictionary[Any, inspect.Signature] = weakref.WeakKeyDictionary()


def call_signature(task: Task) -> inspect.Signature:
    """``inspect.signature(task.run)``, cached per function (building a big flow calls it
    once per task call)."""
    fn = task.run
    func = getattr(fn, "__func__", None)
    if func is None:  # a plain function (FunctionTask) or a callable object
        try:
            cached = _full_signatures.get(fn)
        except TypeError:  # not weak-referenceable
            return inspect.signature(fn)
        if cached is None:
            cached = _full_signatures[fn] = inspect.signature(fn)
        return cached
    # a bound run() method: cache per function, dropping ``self``
    cached = _full_signatures.get(func)
    if cached is None:
        cached = _full_signatures[func] = inspect.signature(fn)
    return cached


def run_signature(task: Task) -> RunSignature:
    """The arguments ``task.run`` takes (cached per function)."""
    fn = task.run
    key = getattr(fn, "__func__", fn)
    cached = _signatures.get(key)
    if cached is None:
        params = inspect.signature(fn).parameters.values()
        names = frozenset(
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)
        )
        required = frozenset(
            p.name for p in params if p.name in names and p.default is inspect.Parameter.empty
        )
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
        cached = _signatures[key] = RunSignature(names, required, var_kw)
    return cached


def find_path(
    start: Task, goal: Task, successors: Callable[[Task], Iterable[Task]]
) -> list[Task] | None:
    """A path of tasks from ``start`` to ``goal`` following ``successors``, or ``None``."""
    if start is goal:
        return [start]
    parents: dict[Task, Task | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in successors(node):
            if nxt in parents:
                continue
            parents[nxt] = node
            if nxt is goal:
                path = [nxt]
                back = parents[nxt]
                while back is not None:
                    path.append(back)
                    back = parents[back]
                return path[::-1]
            queue.append(nxt)
    return None


def topological_sort(
    tasks: Iterable[Task], upstream_edges: Mapping[Task, list[Edge]]
) -> list[Task]:
    """Tasks ordered so each comes after all its upstream tasks; stable in insertion order.

    Raises :class:`CycleError` naming the tasks left on a cycle.
    """
    ordered_tasks = list(tasks)
    indegree = {t: len({e.upstream_task for e in upstream_edges.get(t, ())}) for t in ordered_tasks}
    downstream: dict[Task, list[Task]] = {t: [] for t in ordered_tasks}
    for t in ordered_tasks:
        for up in {e.upstream_task: None for e in upstream_edges.get(t, ())}:
            downstream[up].append(t)
    queue = deque(t for t in ordered_tasks if indegree[t] == 0)
    result: list[Task] = []
    while queue:
        node = queue.popleft()
        result.append(node)
        for nxt in downstream[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                queue.append(nxt)
    if len(result) != len(ordered_tasks):
        stuck = [t for t in ordered_tasks if indegree[t] > 0]
        names = ", ".join(repr(t.name) for t in stuck)
        raise CycleError(f"the flow has a cycle among the tasks {names}", stuck)
    return result
