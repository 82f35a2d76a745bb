"""``FlowRunner``: runs every task of a flow on an executor and decides the flow's state.

The runner walks the tasks in topological order and submits each to the executor with its
upstream states (or their futures), so an executor that runs things in parallel does so
without the runner waiting in between. It only waits when it must know a length: to map
over the result of an unmapped task. A mapped task's children are submitted in chunks the
executor sizes; a mapped task fed by another mapped task is expanded chunk by chunk, so
chunk *i* downstream starts as soon as chunk *i* upstream is done
(:mod:`~headrace.engine.mapping`).

Everything a run is run with is resolved once, in :meth:`FlowRunner.run`, into a
:class:`~headrace.engine.settings.RunSettings` (executor, result, checkpointing, retry
delay...) from which each task's frozen :class:`~headrace.engine.task_spec.TaskSpec` is
built; nothing below reads the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from headrace.core import gc_pause
from headrace.core.errors import FlowValidationError
from headrace.core.flow import Flow
from headrace.core.task import Task
from headrace.engine import cache
from headrace.engine.boundary import UserCodeError, call_user
from headrace.engine.context_keys import flow_run_keys
from headrace.engine.errors import ParameterError
from headrace.engine.failure import describe_error
from headrace.engine.handlers import run_handlers
from headrace.engine.mapping import MappedFutures, join_chunks, submit_mapped
from headrace.engine.retry_waits import run_until_done
from headrace.engine.settings import RunSettings
from headrace.engine.state import (
    Cancelled,
    Failed,
    Finished,
    Looped,
    Mapped,
    Pending,
    Running,
    State,
    Success,
    replace,
)
from headrace.engine.task_runner import Listener, TaskRunner
from headrace.engine.task_spec import TaskSpec
from headrace.engine.transitions import apply
from headrace.runcontext import current, reset_context, set_context
from headrace.utilities.logging import get_logger

__all__ = ["FlowRunner"]

logger = get_logger("flow_runner")


class FlowRunner:
    """Runs a :class:`~headrace.core.flow.Flow` in this process on an executor."""

    task_runner_cls: type[TaskRunner] = TaskRunner
    #: A task whose retry starts later ends this run ``Retrying`` (Prefect's FlowRunner);
    #: :meth:`run_until_done` (what ``flow.run()`` calls) comes back for it. A runner that
    #: must finish in one call sets this to False: its tasks sleep out their retry delays.
    returns_retrying: bool = True

    def __init__(
        self,
        flow: Flow,
        task_runner_cls: type[TaskRunner] | None = None,
        listeners: tuple[Listener, ...] = (),
        flow_listeners: tuple[Callable[[Flow, State, State], None], ...] = (),
    ) -> None:
        if not isinstance(flow, Flow):
            raise TypeError(f"FlowRunner needs a Flow, not {type(flow).__name__}")
        self.flow = flow
        if task_runner_cls is not None:
            self.task_runner_cls = task_runner_cls
        self.listeners = listeners
        self.flow_listeners = flow_listeners

    # ---- inputs ----------------------------------------------------------------------

    def check_parameters(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """All parameter values for the run; unknown or missing ones raise ParameterError."""
        given = dict(given or {})
        params = {p.name: p for p in self.flow.parameters()}
        unknown = sorted(set(given) - set(params))
        if unknown:
            raise ParameterError(
                f"Flow {self.flow.name!r} has no parameter(s) {', '.join(map(repr, unknown))}; "
                f"its parameters are {sorted(params) or 'none'}"
            )
        missing = sorted(n for n, p in params.items() if p.required and n not in given)
        if missing:
            raise ParameterError(
                f"Flow {self.flow.name!r} is missing required parameter(s) "
                f"{', '.join(map(repr, missing))}"
            )
        return {n: given.get(n, p.default) for n, p in params.items()}

    def resolve_executor(self, executor: Any) -> Any:
        """An executor instance from an instance, a class, the flow's, or the default."""
        from headrace.engine import get_default_executor_class

        chosen = executor if executor is not None else self.flow.executor
        if chosen is None:
            chosen = get_default_executor_class()
        if isinstance(chosen, type):
            chosen = chosen()
        for method in ("start", "submit", "wait"):
            if not callable(getattr(chosen, method, None)):
                raise TypeError(f"executor {chosen!r} has no {method}() method")
        return chosen

    # ---- state changes ---------------------------------------------------------------

    def run_settings(self, executor: Any, keep_finished: bool = False) -> RunSettings:
        """The settings of a run on ``executor`` (an instance), from the flow and the
        configuration: resolved here, where the run starts, and passed down. A subclass
        may change them (the backend's checkpoints by default)."""
        return RunSettings.from_config(
            executor=executor,
            flow_result=self.flow.result,
            returns_retrying=self.returns_retrying,
            keep_finished=keep_finished,
        )

    def set_flow_state(self, old: State, new: State) -> State:
        """Move the flow run to ``new`` (checked against the transition table); its
        handlers may replace it, then the flow listeners hear of it."""
        apply(old, new)
        if self.flow.state_handlers:
            label = f"flow {self.flow.name!r}"
            new = run_handlers(label, self.flow, self.flow.state_handlers, old, new)
        for listener in self.flow_listeners:
            listener(self.flow, old, new)
        return new

    # ---- the run ---------------------------------------------------------------------

    def run(
        self,
        state: State | None = None,
        task_states: Mapping[Task, State] | None = None,
        parameters: Mapping[str, Any] | None = None,
        executor: Any = None,
        context: Mapping[str, Any] | None = None,
        *,
        return_tasks: Iterable[Task] | None = None,
        task_contexts: Mapping[Task, Mapping[str, Any]] | None = None,
        keep_finished: bool = False,
    ) -> State:
        """Run the flow; returns its final state whose ``.result`` maps every task to its state
        (only the ``return_tasks`` when given, as in Prefect).

        Tasks given a successful state in ``task_states`` are not run again (restart from
        failure); other given states are where those tasks start, unless ``keep_finished``
        keeps every finished one as it is (how :meth:`run_until_done` goes on from an
        earlier pass). A mapped task given a ``Mapped`` state is expanded again over its
        upstream's items, as on its first run: each child given a successful state in
        ``map_states`` keeps it, every other child (failed, pending, or beyond the given
        list: a map interrupted before all its children ran) runs, so what takes the whole
        map sees all of its children. ``task_contexts`` adds context values for single tasks
        (``{task: {"key": value}}``). A task whose retry starts later ends ``Retrying``.
        """
        flow = self.flow
        flow.validate()
        wanted = None if return_tasks is None else set(return_tasks)
        unknown = [t for t in (wanted or ()) if t not in flow.tasks]
        unknown += [t for t in (task_contexts or ()) if t not in flow.tasks]
        if unknown:
            raise FlowValidationError(
                f"Flow {flow.name!r}: return_tasks/task_contexts name tasks not in the flow: "
                f"{sorted(getattr(t, 'name', repr(t)) for t in unknown)}"
            )
        given = {**current(), **(context or {})}
        from_context = given.get("parameters") or {}
        values = self.check_parameters({**from_context, **(parameters or {})})
        settings = self.run_settings(self.resolve_executor(executor), keep_finished)
        ctx = {
            **current(),
            "flow_name": flow.name,
            **flow_run_keys(given),
            **(context or {}),
            "parameters": values,
        }
        token = set_context(ctx)
        state = state or Pending()
        try:
            if state.is_finished():
                return state
            with gc_pause.lifted():  # a run inside `with Flow(...)`: the collector is on
                state = self.set_flow_state(state, Running("Running flow."))
                logger.info("Flow run %r: started", flow.name)
                results = self._run_tasks(settings, task_states or {}, ctx, task_contexts)
                final = self.set_flow_state(state, self.terminal_state(self.final_state(results)))
        except UserCodeError as exc:
            final = Failed(f"Flow {flow.name!r}: {exc}", exc.exc, error=describe_error(exc.exc))
        except Exception as exc:
            logger.exception("Flow run %r: unexpected error", flow.name)
            final = Failed(
                f"Flow {flow.name!r}: unexpected error: {exc!r}", exc, error=describe_error(exc)
            )
        finally:
            reset_context(token)
        logger.info("Flow run %r: %s (%s)", flow.name, type(final).__name__, final.message)
        if wanted is not None and isinstance(final.result, dict):
            final = replace(final, result={t: st for t, st in final.result.items() if t in wanted})
        return final

    def run_until_done(
        self, task_states: Mapping[Task, State] | None = None, **kwargs: Any
    ) -> State:
        """:meth:`run`, then again at each waiting retry's start time (keeping what
        finished) until no task waits to retry: what ``flow.run()`` does."""

        def run_once(states: Any, flow_state: State | None) -> State:
            return self.run(flow_state, states, keep_finished=flow_state is not None, **kwargs)

        return run_until_done(run_once, task_states)

    def final_state(self, results: dict[Task, State]) -> State:
        """The flow's state from its reference tasks' states (a mapped task counts as its
        children)."""
        ref: list[State] = []
        for t in self.flow.reference_tasks():
            s = results[t]
            ref.extend(s.map_states if isinstance(s, Mapped) else (s,))
        waiting = sum(1 for s in ref if not isinstance(s, Finished))
        if waiting:
            return Running(f"{waiting} reference task(s) are waiting (paused or pending).", results)
        if any(s.is_failed() for s in ref):
            return Failed("Some reference tasks failed.", results)
        if any(s.is_cancelled() for s in ref):
            return Cancelled("Some reference tasks were cancelled.", results)
        return Success("All reference tasks succeeded.", results)

    def terminal_state(self, final: State) -> State:
        """``final``, or what the flow's ``terminal_state_handler(flow, state,
        reference_task_states)`` replaces it with once the run is over (as in Prefect;
        the reference states come as a list: states are not hashable here)."""
        handler = getattr(self.flow, "terminal_state_handler", None)
        if handler is None or not isinstance(final, Finished):
            return final
        results = final.result if isinstance(final.result, dict) else {}
        refs = [results[t] for t in self.flow.reference_tasks() if t in results]
        what = f"terminal_state_handler of flow {self.flow.name!r}"
        replaced = call_user(what, handler, self.flow, final, refs)
        if replaced is None:
            return final
        if not isinstance(replaced, State):
            raise UserCodeError(what, TypeError(f"returned {replaced!r}, not a State or None"))
        return replaced

    def task_runner(self, task: Task, settings: RunSettings) -> TaskRunner:
        """The runner of one task of this flow in a run with ``settings`` (a subclass may
        give it more hooks)."""
        spec = TaskSpec.build(task, settings, self.flow.slugs.get(task), self.flow.name)
        return self.task_runner_cls(task, spec=spec, listeners=self.listeners)

    def _run_tasks(
        self,
        settings: RunSettings,
        task_states: Mapping[Task, State],
        flow_ctx: dict[str, Any],
        task_contexts: Mapping[Task, Mapping[str, Any]] | None = None,
    ) -> dict[Task, State]:
        flow = self.flow
        executor: Any = settings.executor
        keep_finished = settings.keep_finished
        futures: dict[Task, Any] = {}
        mapped: set[Task] = set()
        cached_runners: dict[Task, TaskRunner] = {}
        upstream_edges = flow._upstream
        with executor.start():
            for task in flow.sorted_tasks():
                given = task_states.get(task)
                edges = upstream_edges[task]
                is_map = any(e.mapped for e in edges)
                if given is not None and (
                    (_complete(given) and not (is_map and isinstance(given, Mapped)))
                    or (keep_finished and _kept(given))
                ):
                    futures[task] = given
                    continue
                upstream = {
                    e: _upstream_future(executor, e, futures[e.upstream_task]) for e in edges
                }
                runner = self.task_runner(task, settings)
                ctx = flow_ctx
                if task_contexts and task in task_contexts:
                    ctx = {**flow_ctx, **task_contexts[task]}
                if task.cache_for is not None:
                    runner.cache_candidates = cache.snapshot(runner.cache_base())
                    cached_runners[task] = runner
                constants = flow.constants.get(task)
                if is_map:
                    futures[task] = submit_mapped(executor, runner, upstream, given, ctx, constants)
                    if isinstance(futures[task], MappedFutures):
                        mapped.add(task)
                else:
                    futures[task] = executor.submit(runner, upstream, given, ctx, None, constants)
            resolved = executor.wait(
                {t: (f.chunks if t in mapped else f) for t, f in futures.items()}
            )
        results: dict[Task, State] = {}
        for task, value in resolved.items():
            caching = cached_runners.get(task)
            if task in mapped:
                children = join_chunks(value)
                if caching is not None:
                    children = [_take_cache_entry(caching, i, c) for i, c in enumerate(children)]
                value = Mapped(f"Mapped {len(children)} children.", map_states=children)
                value = _notify_mapped(self, task, value)
            elif caching is not None:
                value = _take_cache_entry(caching, None, value)
            results[task] = value
        return results


def _upstream_future(executor: Any, edge: Any, future: Any) -> Any:
    """What a task is handed for one upstream edge: a chunked mapped upstream stays in
    chunks when the task maps over it, and is joined into one list of its children's
    states when the task takes it whole (a reduce, ``unmapped(...)``)."""
    if isinstance(future, MappedFutures) and not edge.mapped:
        return future.joined(executor)
    return future


def _take_cache_entry(runner: TaskRunner, index: int | None, state: State) -> State:
    """Add the cache entry a task run brought back (see ``TaskRunner.cache_candidates``)
    to this process's cache; ``state`` without it."""
    entry = getattr(state, "cache_entry", None)
    if entry is None:
        return state
    cache.store(runner.cache_key_for(index), entry)
    return replace(state, drop=("cache_entry",))


def _kept(state: State) -> bool:
    """Whether a finished given state stands as it is when finished states are kept (a
    mapped parent goes through its children; a loop goes on)."""
    return state.is_finished() and not isinstance(state, Mapped | Looped)


def _complete(state: State) -> bool:
    """Whether a given state needs no rerun: successful, and so are all its children. (A
    mapped task is expanded again even then: only its upstream says how many children it
    has, and a ``Mapped`` state of an interrupted run lists only those that reported.)"""
    if isinstance(state, Mapped):
        return all(_complete(s) for s in state.map_states)
    return state.is_successful()


def _notify_mapped(runner: FlowRunner, task: Task, state: Mapped) -> State:
    """Tell the task's handlers and the listeners that a mapped parent finished ``Mapped``
    (its children were reported one by one; the parent itself never ran)."""
    if not task.state_handlers and not runner.listeners:
        return state
    task_runner = runner.task_runner(task, RunSettings())
    return task_runner.set_state(Pending(), state, None)
