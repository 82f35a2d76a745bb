"""``Flow``: a graph of tasks, built in ``with Flow(...)`` or imperatively, then run.

The flow owns the graph (tasks, edges, constants, slugs); the tasks only carry their
settings. The graph's queries live in :mod:`~headrace.core.flow_graph`, the methods that
build it in :mod:`~headrace.core.flow_building` (and edit it in
:mod:`~headrace.core.flow_editing`); this module holds the flow's settings and
its entry points. Running delegates to the engine, serializing and registering to the deployment
and backend layers (imported on call, so building a flow imports none of them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from headrace.core import active, gc_pause
from headrace.core.edge import Edge
from headrace.core.flow_editing import FlowEditing
from headrace.core.hooks import OnFailure
from headrace.core.task import Task
from headrace.core.task_set import TaskSet

if TYPE_CHECKING:
    from headrace.engine.state import State

__all__ = ["Flow"]


class Flow(FlowEditing):
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
        on_failure: Callable[[Any, Any], Any] | None = None,
        terminal_state_handler: Callable[..., Any] | None = None,
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
        if on_failure is not None:
            self.state_handlers.append(OnFailure(on_failure))
        if terminal_state_handler is not None and not callable(terminal_state_handler):
            raise TypeError(f"Flow {name!r}: terminal_state_handler must be callable")
        # (flow, final state, reference task states) -> a replacement state or None
        self.terminal_state_handler = terminal_state_handler
        for handler in self.state_handlers:
            if not callable(handler):
                raise TypeError(f"Flow {name!r}: state handler {handler!r} is not callable")
        self.tasks: TaskSet = TaskSet()
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
        with gc_pause.paused():  # a graph only grows while it is built
            for t in tasks or ():
                self.add_task(t)
            for e in edges or ():
                self.add_edge(e.upstream_task, e.downstream_task, e.key, e.mapped, e.flattened)
        self.set_reference_tasks(reference_tasks or ())

    def __repr__(self) -> str:
        return f"<Flow: name={self.name!r}, {len(self.tasks)} tasks>"

    def __enter__(self) -> Flow:
        """Build the flow: tasks called in the block join it. The cyclic garbage collector
        is paused until the block ends (see :mod:`~headrace.core.gc_pause`)."""
        self._tokens.append(active.push(self))
        gc_pause.pause()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            active.pop(self._tokens.pop())
        finally:
            gc_pause.resume()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the graph and settings, never an open ``with`` block's context token."""
        state = dict(self.__dict__)
        state["_tokens"] = []
        return state

    def copy(self) -> Flow:
        """A new flow with the same tasks, edges and settings, changeable on its own."""
        new = Flow.__new__(Flow)
        new.__dict__.update(self.__dict__)
        new.tasks = TaskSet(self.tasks)
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

    # ---- running, visualizing, deploying ----------------------------------------------

    def run(
        self,
        parameters: Mapping[str, Any] | None = None,
        executor: Any = None,
        task_states: Mapping[Task, State] | None = None,
        runner_cls: type | None = None,
        context: Mapping[str, Any] | None = None,
        run_on_schedule: bool | None = None,
        return_tasks: Iterable[Task] | None = None,
        task_contexts: Mapping[Task, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> State:
        """Run the flow in this process; returns its final state (``.result[task]``).

        ``flow.run(parameters={"x": 1})`` and ``flow.run(x=1)`` are the same. Prefect's
        runner keywords work too: ``runner_cls``, ``context``, ``task_contexts``,
        ``return_tasks``, and ``run_on_schedule=True`` runs a flow that has a schedule at
        each of its times (sleeping in between) until the schedule ends.
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
        wanted = None if return_tasks is None else set(return_tasks)
        unknown = sorted(t.name for t in (wanted or ()) if t not in self.tasks)
        if unknown:
            from headrace.core.errors import FlowValidationError

            raise FlowValidationError(
                f"Flow {self.name!r}: return_tasks not in the flow: {unknown}"
            )
        extra: dict[str, Any] = {}
        if task_contexts is not None:
            extra["task_contexts"] = task_contexts
        # Prefect's split: the runner returns tasks whose retry starts later as Retrying;
        # flow.run() comes back for them (run_until_done) until the run is over.
        run = getattr(runner, "run_until_done", None)

        def run_once(ctx: Mapping[str, Any] | None) -> State:
            final: State
            if run is None:
                final = runner.run(
                    parameters=merged, executor=executor, task_states=task_states, context=ctx
                )
            else:
                final = run(task_states, parameters=merged, executor=executor, context=ctx, **extra)
            return final

        if run_on_schedule and self.schedule is not None:
            from headrace.engine.scheduled_runs import run_on_schedule as on_schedule

            final = on_schedule(self, run_once, context)
        else:
            final = run_once(context)
        if wanted is not None and isinstance(final.result, dict):
            from headrace.engine.state import replace

            final = replace(final, result={t: s for t, s in final.result.items() if t in wanted})
        return final

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
