"""``Flow``: a graph of tasks, built in ``with Flow(...)`` or imperatively, then run.

The flow owns the graph (tasks, edges, constants, slugs); the tasks only carry their
settings. Running delegates to the engine, serializing and registering to the deployment
and backend layers (imported on call, so building a flow imports none of them).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from headrace.core import active
from headrace.core.binding import as_upstream
from headrace.core.edge import Edge
from headrace.core.errors import CycleError, DuplicateTaskError, EdgeError, FlowValidationError
from headrace.core.graph import find_path, run_signature, topological_sort
from headrace.core.parameter import Parameter
from headrace.core.task import Task

if TYPE_CHECKING:
    from headrace.engine.state import State

__all__ = ["Flow"]


class Flow:
    """A named graph of tasks with the settings that say how and where it runs."""

    def __init__(
        self,
        name: str,
        tasks: Iterable[Task] | None = None,
        edges: Iterable[Edge] | None = None,
        reference_tasks: Iterable[Task] | None = None,
        environment: Any = None,
        storage: Any = None,
        run_config: Any = None,
        executor: Any = None,
        schedule: Any = None,
        result: Any = None,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a flow's name must be a non-empty string, not {name!r}")
        self.name = name
        self.environment = environment
        self.storage = storage
        self.run_config = run_config
        self.executor = executor
        self.schedule = schedule
        self.result = result
        self.state_handlers = list(state_handlers or ())
        for handler in self.state_handlers:
            if not callable(handler):
                raise TypeError(f"Flow {name!r}: state handler {handler!r} is not callable")
        self.tasks: dict[Task, None] = {}
        self.edges: set[Edge] = set()
        self.constants: dict[Task, dict[str, Any]] = {}
        self.slugs: dict[Task, str] = {}
        self._upstream: dict[Task, list[Edge]] = {}
        self._fed: dict[Task, set[str]] = {}  # arguments already fed, by an edge or a constant
        self._downstream: dict[Task, list[Edge]] = {}
        self._slug_counts: dict[str, int] = {}
        self._reference: set[Task] = set()
        self._sorted: list[Task] | None = None
        self._tokens: list[object] = []
        for t in tasks or ():
            self.add_task(t)
        for e in edges or ():
            self.add_edge(e.upstream_task, e.downstream_task, e.key, e.mapped, e.flattened)
        self.set_reference_tasks(reference_tasks or ())

    def __repr__(self) -> str:
        return f"<Flow: name={self.name!r}, {len(self.tasks)} tasks>"

    def __enter__(self) -> Flow:
        self._tokens.append(active.push(self))
        return self

    def __exit__(self, *exc: object) -> None:
        active.pop(self._tokens.pop())

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the graph and settings, never an open ``with`` block's context token."""
        state = dict(self.__dict__)
        state["_tokens"] = []
        return state

    # ---- building ----------------------------------------------------------------------

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

    def _successors(self, task: Task) -> list[Task]:
        return [e.downstream_task for e in self._downstream.get(task, ())]

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
        """Wire ``task`` in one call: ordering-only upstream/downstream tasks and keyed inputs."""
        self.add_task(task)
        for up in upstream_tasks or ():
            source, _, _ = as_upstream(up, self, mapped=False)
            if not isinstance(source, Task):
                raise TypeError(f"Flow {self.name!r}: upstream_tasks must be tasks, not {up!r}")
            self.add_edge(source, task, validate=validate)
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

    # ---- queries -----------------------------------------------------------------------

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
        return list(self._upstream.get(task, ()))

    def edges_from(self, task: Task) -> list[Edge]:
        return list(self._downstream.get(task, ()))

    def upstream_tasks(self, task: Task) -> set[Task]:
        return {e.upstream_task for e in self._upstream.get(task, ())}

    def downstream_tasks(self, task: Task) -> set[Task]:
        return {e.downstream_task for e in self._downstream.get(task, ())}

    def root_tasks(self) -> set[Task]:
        return {t for t in self.tasks if not self._upstream[t]}

    def terminal_tasks(self) -> set[Task]:
        return {t for t in self.tasks if not self._downstream[t]}

    def reference_tasks(self) -> set[Task]:
        return set(self._reference) or self.terminal_tasks()

    def parameters(self) -> set[Parameter]:
        return {t for t in self.tasks if isinstance(t, Parameter)}

    def sorted_tasks(self) -> list[Task]:
        """All tasks, each after its upstream tasks (cached until the graph changes)."""
        if self._sorted is None:
            self._sorted = topological_sort(self.tasks, self._upstream)
        return list(self._sorted)

    def copy(self) -> Flow:
        """A new flow with the same tasks, edges and settings, changeable on its own."""
        new = Flow.__new__(Flow)
        new.__dict__.update(self.__dict__)
        new.tasks = dict(self.tasks)
        new.edges = set(self.edges)
        new.constants = {t: dict(c) for t, c in self.constants.items()}
        new.slugs = dict(self.slugs)
        new._upstream = {t: list(es) for t, es in self._upstream.items()}
        new._fed = {t: set(keys) for t, keys in self._fed.items()}
        new._downstream = {t: list(es) for t, es in self._downstream.items()}
        new._slug_counts = dict(self._slug_counts)
        new._reference = set(self._reference)
        new._tokens = []
        new.state_handlers = list(self.state_handlers)
        return new

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

    # ---- running, visualizing, deploying ----------------------------------------------

    def run(
        self,
        parameters: Mapping[str, Any] | None = None,
        executor: Any = None,
        task_states: Mapping[Task, State] | None = None,
        runner_cls: type | None = None,
        context: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> State:
        """Run the flow in this process; returns its final state (``.result[task]``).

        ``flow.run(parameters={"x": 1})`` and ``flow.run(x=1)`` are the same.
        """
        from headrace.engine import get_default_flow_runner_class

        both = sorted(set(parameters or ()) & set(kwargs))
        if both:
            from headrace.engine.errors import ParameterError

            raise ParameterError(
                f"Flow {self.name!r}: parameter(s) {', '.join(map(repr, both))} given both in "
                f"parameters= and as keywords"
            )
        merged = {**(parameters or {}), **kwargs}
        runner = (runner_cls or get_default_flow_runner_class())(flow=self)
        return runner.run(
            parameters=merged, executor=executor, task_states=task_states, context=context
        )

    def visualize(
        self,
        flow_state: State | None = None,
        filename: str | None = None,
        format: str | None = None,
    ) -> Any:
        """A graphviz ``Digraph`` of the flow, coloured by ``flow_state`` if given."""
        from headrace.core.visualize import visualize

        return visualize(self, flow_state=flow_state, filename=filename, format=format)

    def serialize(self, build: bool = False) -> dict[str, Any]:
        """The flow's versioned JSON document (see :mod:`headrace.serialization`)."""
        from headrace.serialization import serialize_flow

        return serialize_flow(self, build=build)

    def serialized_hash(self) -> str:
        """A hash that changes when the graph or the flow's configuration changes."""
        from headrace.serialization import flow_hash

        return flow_hash(self)

    def register(
        self,
        project_name: str | None = None,
        labels: Iterable[str] | None = None,
        build: bool = True,
        **kwargs: Any,
    ) -> str:
        """Build the storage, serialize and register with the server; returns the flow id."""
        from headrace.client import Client

        return Client().register(
            self, project_name=project_name, labels=labels, build=build, **kwargs
        )
