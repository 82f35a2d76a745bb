"""The graph a flow holds, and the questions asked of it: which tasks, which edges,
in which order, and whether the graph can run (:meth:`FlowGraph.validate`).

:class:`~headrace.core.flow.Flow` inherits these; building the graph is
:mod:`~headrace.core.flow_building`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from headrace.core.edge import Edge
from headrace.core.errors import FlowValidationError
from headrace.core.graph import run_signature, topological_sort
from headrace.core.parameter import Parameter
from headrace.core.task import Task
from headrace.core.task_set import TaskSet

__all__ = ["FlowGraph"]


class FlowGraph:
    """A flow's tasks and edges, with the queries over them."""

    name: str
    tasks: TaskSet  # insertion-ordered set
    edges: set[Edge]
    constants: dict[Task, dict[str, Any]]
    slugs: dict[Task, str]
    _upstream: dict[Task, list[Edge]]
    _downstream: dict[Task, list[Edge]]
    _fed: dict[Task, set[str]]  # arguments already fed, by an edge or a constant
    _slug_counts: dict[str, int]
    _reference: set[Task]
    _sorted: list[Task] | None

    def _successors(self, task: Task) -> list[Task]:
        """The downstream tasks of ``task`` in edge order (for path searches)."""
        return [e.downstream_task for e in self._downstream.get(task, ())]

    def get_tasks(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        task_type: type | None = None,
    ) -> list[Task]:
        """The tasks matching every criterion given."""
        wanted = set(tags or ())
        return [
            t
            for t in self.tasks
            if (name is None or t.name == name)
            and (slug is None or self.slugs[t] == slug)
            and wanted <= t.tags
            and (task_type is None or isinstance(t, task_type))
        ]

    def edges_to(self, task: Task) -> list[Edge]:
        """The edges into ``task`` (from its upstream tasks)."""
        return list(self._upstream.get(task, ()))

    def edges_from(self, task: Task) -> list[Edge]:
        """The edges out of ``task`` (to its downstream tasks)."""
        return list(self._downstream.get(task, ()))

    def all_upstream_edges(self) -> dict[Task, set[Edge]]:
        """Every task's incoming edges."""
        return {t: set(self._upstream[t]) for t in self.tasks}

    def all_downstream_edges(self) -> dict[Task, set[Edge]]:
        """Every task's outgoing edges."""
        return {t: set(self._downstream[t]) for t in self.tasks}

    def upstream_tasks(self, task: Task) -> set[Task]:
        """The tasks that run before ``task`` because an edge says so."""
        return {e.upstream_task for e in self._upstream.get(task, ())}

    def downstream_tasks(self, task: Task) -> set[Task]:
        """The tasks that wait for ``task`` because an edge says so."""
        return {e.downstream_task for e in self._downstream.get(task, ())}

    def root_tasks(self) -> set[Task]:
        """The tasks with no upstream task."""
        return {t for t in self.tasks if not self._upstream[t]}

    def terminal_tasks(self) -> set[Task]:
        """The tasks with no downstream task."""
        return {t for t in self.tasks if not self._downstream[t]}

    def reference_tasks(self) -> set[Task]:
        """The tasks whose states decide the flow's state (default: the terminal tasks,
        and the upstream tasks of a terminal task that ``references_upstream``, such as a
        resource manager's cleanup, which runs even when the tasks before it failed)."""
        if self._reference:
            return set(self._reference)
        chosen = self.terminal_tasks()
        todo = [t for t in chosen if getattr(t, "references_upstream", False)]
        while todo:
            for up in self.upstream_tasks(todo.pop()):
                if up not in chosen:
                    chosen.add(up)
                    if getattr(up, "references_upstream", False):
                        todo.append(up)
        return chosen

    def parameters(self) -> set[Parameter]:
        """The flow's parameters (they are tasks too)."""
        return {t for t in self.tasks if isinstance(t, Parameter)}

    def sorted_tasks(self) -> list[Task]:
        """All tasks, each after its upstream tasks (cached until the graph changes)."""
        if self._sorted is None:
            self._sorted = topological_sort(self.tasks, self._upstream)
        return list(self._sorted)

    def validate(self) -> None:
        """Check the graph; raise a :class:`FlowValidationError` naming what is wrong."""
        for edge in self.edges:
            for t in (edge.upstream_task, edge.downstream_task):
                if t not in self.tasks:
                    raise FlowValidationError(
                        f"Flow {self.name!r}: {edge} joins a task not in the flow"
                    )
        for t in self._reference:
            if t not in self.tasks:
                raise FlowValidationError(
                    f"Flow {self.name!r}: reference task {t.name!r} is not in the flow"
                )
        topological_sort(self.tasks, self._upstream)
        for t in self.tasks:
            fed = set(self.constants.get(t, ())) | {e.key for e in self._upstream[t] if e.key}
            missing = sorted(run_signature(t).required - fed)
            if missing and not isinstance(t, Parameter):
                raise FlowValidationError(
                    f"Flow {self.name!r}: task {t.name!r} gets no value for argument(s) "
                    f"{', '.join(missing)}"
                )
