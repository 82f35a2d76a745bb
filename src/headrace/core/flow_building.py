"""Building a flow's graph: adding tasks (with slugs unique in the flow), edges (refusing
cycles and arguments fed twice) and constants, by hand or from call arguments.

The functional API (``task(...)`` in ``with Flow(...)``) and the imperative one
(``task.set_upstream``, ``flow.add_edge``...) both end in these methods.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from headrace.core import active
from headrace.core.binding import as_upstream
from headrace.core.edge import Edge
from headrace.core.errors import CycleError, DuplicateTaskError, EdgeError, FlowValidationError
from headrace.core.flow_graph import FlowGraph
from headrace.core.graph import find_path, run_signature
from headrace.core.parameter import Parameter
from headrace.core.task import Task

__all__ = ["FlowBuilding"]


class FlowBuilding(FlowGraph):
    """The methods that add to a flow's graph."""

    def add_task(self, task: Task) -> Task:
        """Add ``task`` (once) and give it a slug unique in this flow."""
        if not isinstance(task, Task):
            raise TypeError(f"Flow {self.name!r}: add_task needs a Task, not {type(task).__name__}")
        if task in self.tasks:
            return task
        if isinstance(task, Parameter):
            clash = next((t for t in self.parameters() if t.name == task.name), None)
            if clash is not None:
                raise DuplicateTaskError(
                    f"Flow {self.name!r} already has a parameter named {task.name!r}"
                )
        slug = task.slug
        if slug is not None:
            if slug in self._slug_counts or any(s == slug for s in self.slugs.values()):
                raise DuplicateTaskError(
                    f"Flow {self.name!r} already has a task with slug {slug!r}"
                )
            self._slug_counts[slug] = 0
        else:
            n = self._slug_counts.get(task.name, 0) + 1
            slug = f"{task.name}-{n}"
            while slug in self._slug_counts:
                n += 1
                slug = f"{task.name}-{n}"
            self._slug_counts[task.name] = n
        self.slugs[task] = slug
        self.tasks[task] = None
        self._upstream[task] = []
        self._downstream[task] = []
        self._sorted = None
        active.task_added(self, task)  # type: ignore[arg-type]
        return task

    def _check_key(self, task: Task, key: str) -> None:
        if not run_signature(task).accepts(key):
            raise EdgeError(
                f"Flow {self.name!r}: task {task.name!r} has no argument {key!r} "
                f"(its run() takes {sorted(run_signature(task).names) or 'no arguments'})"
            )
        if key in self._fed.get(task, ()):
            raise EdgeError(
                f"Flow {self.name!r}: argument {key!r} of task {task.name!r} is already fed"
            )

    def add_edge(
        self,
        upstream_task: Task,
        downstream_task: Task,
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
        validate: bool = True,
    ) -> Edge:
        """Make ``upstream_task`` run first, feeding ``key`` of ``downstream_task`` if given."""
        for t in (upstream_task, downstream_task):
            if not isinstance(t, Task):
                raise TypeError(f"Flow {self.name!r}: edges join Tasks, not {type(t).__name__}")
        edge = Edge(upstream_task, downstream_task, key, mapped, flattened)
        if edge in self.edges:
            return edge
        if key is not None:
            self._check_key(downstream_task, key)
        if validate and upstream_task in self.tasks and downstream_task in self.tasks:
            path = find_path(downstream_task, upstream_task, self._successors)
            if path is not None:
                cycle = [*path, downstream_task]
                names = " -> ".join(repr(t.name) for t in cycle)
                raise CycleError(
                    f"Flow {self.name!r}: adding this edge makes a cycle: {names}", cycle
                )
        self.add_task(upstream_task)
        self.add_task(downstream_task)
        self.edges.add(edge)
        self._upstream[downstream_task].append(edge)
        self._downstream[upstream_task].append(edge)
        if key is not None:
            self._fed.setdefault(downstream_task, set()).add(key)
        self._sorted = None
        return edge

    def add_constant(self, task: Task, key: str, value: Any) -> None:
        """Feed ``value`` to argument ``key`` of ``task``."""
        self.add_task(task)
        self._check_key(task, key)
        self.constants.setdefault(task, {})[key] = value
        self._fed.setdefault(task, set()).add(key)

    def set_dependencies(
        self,
        task: Task,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Task] | None = None,
        keyword_tasks: Mapping[str, Any] | None = None,
        mapped: bool = False,
        validate: bool = True,
    ) -> None:
        """Wire ``task`` in one call: ordering-only upstream/downstream tasks and keyed inputs.

        With ``mapped=True`` the upstream tasks are mapped over too (child *i* waits for
        child *i* of each), unless wrapped in ``unmapped(...)``, as in Prefect.
        """
        self.add_task(task)
        for up in upstream_tasks or ():
            source, up_mapped, _ = as_upstream(up, self, mapped=mapped)
            if not isinstance(source, Task):  # a plain value: a constant task, as Prefect does
                from headrace.core.builtins import Constant

                source = Constant(source)
            self.add_edge(source, task, mapped=up_mapped, validate=validate)
        for down in downstream_tasks or ():
            self.add_edge(task, down, validate=validate)
        for key, value in (keyword_tasks or {}).items():
            source, is_mapped, flattened = as_upstream(value, self, mapped=mapped)
            if isinstance(source, Task):
                self.add_edge(source, task, key, is_mapped, flattened, validate=validate)
            else:
                self.add_constant(task, key, source)

    def chain(self, *tasks: Task, validate: bool = True) -> list[Edge]:
        """Run ``tasks`` one after the other."""
        return [self.add_edge(a, b, validate=validate) for a, b in itertools.pairwise(tasks)]

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        """The tasks whose states decide the flow's state (default: the terminal tasks)."""
        chosen = set(tasks)
        missing = [t.name for t in chosen if t not in self.tasks]
        if missing:
            raise FlowValidationError(
                f"Flow {self.name!r}: reference tasks not in the flow: {missing}"
            )
        self._reference = chosen
