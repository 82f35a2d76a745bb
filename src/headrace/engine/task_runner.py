"""``TaskRunner``: the driver of one task run (or one mapped child) -- it carries out what
the steps decide.

The decisions are made in :mod:`~headrace.engine.steps` from the task's frozen
:class:`~headrace.engine.task_spec.TaskSpec`, its upstream states and its current state;
each comes back as a :class:`~headrace.engine.decisions.Decision`: a next state, applied
here through the transition table (:func:`~headrace.engine.transitions.apply`, then the
task's state handlers, which may replace it, then the listeners), and an instruction,
carried out here with :mod:`~headrace.engine.effects` (call the code, wait, read a target
or the cache, write a result, keep a cache entry). This module also holds the run's
context and the failure of last resort. The whole path of one task run:
``flow_runner`` -> ``task_runner`` (this) -> ``steps`` / ``transitions`` / ``effects``.

It is what executors ship to their workers (a :class:`~headrace.engine.contracts.Runnable`),
so it holds only the spec and a few hooks; the flow's context arrives with each call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from headrace.core.edge import Edge
from headrace.core.task import Task
from headrace.engine import effects, steps
from headrace.engine.boundary import UserCodeError
from headrace.engine.context_keys import task_run_name, with_task_run_id
from headrace.engine.contracts import Listener, Recall
from headrace.engine.decisions import (
    Decision,
    Execute,
    NextIteration,
    Persist,
    ReadCache,
    ReadTarget,
    Remember,
    Sleep,
    WaitUntil,
)
from headrace.engine.errors import ResultError
from headrace.engine.failure import describe_error
from headrace.engine.handlers import check_replacement, run_handlers
from headrace.engine.settings import RunSettings
from headrace.engine.signals import RunCancelled
from headrace.engine.state import (
    NOT_LOADED,
    Cached,
    Cancelled,
    Failed,
    Looped,
    Mapped,
    Pending,
    Resume,
    State,
    replace,
)
from headrace.engine.task_spec import TaskSpec
from headrace.engine.transitions import FOLLOWERS, PLAIN_RUN, apply
from headrace.runcontext import reset_context, set_context
from headrace.utilities.logging import get_logger

__all__ = ["Listener", "Recall", "TaskRunner", "check_replacement"]

_EMPTY: dict[str, Any] = {}
_NO_UPSTREAM: dict[Edge, State | list[State]] = {}
logger = get_logger("task_runner")


class TaskRunner:
    """Runs one task of a flow; reused for every mapped child of that task.

    Built from a :class:`TaskSpec` (``TaskRunner(task, spec=...)``, what the flow runner
    does) or, standalone, from a task and the few settings of Prefect's signature.
    """

    __slots__ = ("cache_candidates", "listeners", "plain", "recall", "spec")

    def __init__(
        self,
        task: Task,
        slug: str | None = None,
        flow_name: str = "",
        flow_result: Any = None,
        checkpoint: bool = False,
        listeners: tuple[Listener, ...] = (),
        *,
        spec: TaskSpec | None = None,
    ) -> None:
        if spec is None:
            settings = RunSettings.from_config(flow_result=flow_result, checkpointing=checkpoint)
            spec = TaskSpec.build(task, settings, slug, flow_name)
        self.spec = spec
        self.listeners = listeners
        # Set by the flow runner: the cache entries this task may reuse, by cache key. The
        # cache lives in the flow runner's process, so the entries travel with the runner to
        # whichever worker runs it, and new entries travel back on the final state.
        self.cache_candidates: dict[str, list[Cached]] | None = None
        # Set by a runner that records states elsewhere (the backend): asked by a chunk of
        # mapped children before it runs them, so a chunk that a cluster runs again (its
        # worker died) reuses the children that had already finished and were recorded.
        self.recall: Recall | None = None
        # Whether this task's runs may take the fast path (:meth:`run_plain`): a plain task
        # (see ``steps.plain``) run by this class's own driver.
        self.plain = steps.plain(spec) and not _overrides_driver(type(self))

    @property
    def task(self) -> Task:
        return self.spec.task

    @property
    def slug(self) -> str:
        return self.spec.slug

    def cache_base(self) -> str:
        return self.spec.cache_base()

    def cache_key_for(self, map_index: int | None) -> str:
        return self.spec.cache_key_for(map_index)

    def __repr__(self) -> str:
        return f"<TaskRunner {self.spec.name!r}>"

    # ---- applying states -------------------------------------------------------------

    def set_state(
        self, old: State, new: State, map_index: int | None, story: Sequence[State] = ()
    ) -> State:
        """Move to ``new`` if the transition table allows it (else an
        ``InvalidTransitionError`` carrying the task, both states and ``story``, the
        states so far ending with ``old``); the
        task's handlers may replace it (a replacement that may not follow ``old`` fails the
        task naming the handler), then the listeners hear of it."""
        task = self.spec.task
        allowed = FOLLOWERS.get(type(old))
        if allowed is None or type(new) not in allowed:
            apply(old, new, task=task.name, map_index=map_index, story=story)
        if task.state_handlers:
            new = run_handlers(f"task {task.name!r}", task, task.state_handlers, old, new)
        for listener in self.listeners:
            listener(task, map_index, old, new)
        return new

    # ---- the run ---------------------------------------------------------------------

    def run(
        self,
        upstream_states: Mapping[Edge, State | list[State]] | None = None,
        state: State | None = None,
        context: Mapping[str, Any] | None = None,
        map_index: int | None = None,
        constants: Mapping[str, Any] | None = None,
        map_parent: bool = False,
    ) -> State:
        """The task's final state (or ``Pending``/``Paused``/``Retrying`` if it cannot go
        on yet).

        ``map_parent=True`` asks only whether a mapped task whose upstream could not be
        mapped over may proceed: it ends in the upstream checks' verdict or ``Failed``.
        """
        given: Mapping[Edge, State | list[State]] = upstream_states or _NO_UPSTREAM
        for value in given.values():
            if isinstance(value, list):  # a mapped upstream taken whole: its children
                given = {
                    e: Mapped(map_states=v) if isinstance(v, list) else v for e, v in given.items()
                }
                break
        upstream = cast("Mapping[Edge, State]", given)
        ctx = self.task_context(context)
        ctx["map_index"] = map_index
        if state is None and self.plain and not map_parent and _plain_states(upstream):
            return self.run_plain(steps.inputs_of(upstream, constants or _EMPTY), ctx, map_index)
        token = set_context(ctx)
        story: list[State] = [state or Pending()]
        try:
            return self._run(story, upstream, ctx, constants or _EMPTY, map_index, map_parent)
        except (RunCancelled, Exception) as exc:
            return self._ended_by(exc, story, map_index)
        finally:
            reset_context(token)

    def task_context(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        """The context of this task's runs: the flow's ``context`` with the task's keys
        (``map_index`` None: a mapped child sets its own in a copy)."""
        spec = self.spec
        ctx = dict(context or _EMPTY)
        ctx["task_name"] = spec.task.name
        ctx["task_slug"] = spec.slug
        ctx["task_tags"] = spec.task.tags
        ctx["map_index"] = None
        ctx.setdefault("task_run_count", 1)
        ctx.setdefault("task_loop_count", 1)
        return ctx

    def run_plain(
        self, inputs: dict[str, Any], ctx: dict[str, Any], map_index: int | None
    ) -> State:
        """The fast path of :meth:`run`, for a :attr:`plain` task given no state whose
        upstream states are all plain successes (:data:`~headrace.engine.steps.PLAIN_UPSTREAM`):
        ``inputs`` are its arguments, ``ctx`` the run's own context dict
        (:meth:`task_context` with its ``map_index``).

        It takes the table's plain row (:data:`~headrace.engine.transitions.PLAIN_RUN`)
        without the steps in between, and builds the ``Pending`` and ``Running`` states only
        when listeners hear of them (no one else can see them). The listeners hear the same
        calls as on the general path; an attempt that does not end in a plain ``Success``
        goes on through the general steps (:func:`~headrace.engine.steps.after_attempt`)."""
        ctx["task_run_count"] = 1
        token = set_context(ctx)
        listeners = self.listeners
        story: list[State] = []
        try:
            running: State | None = None
            if listeners:
                first = PLAIN_RUN.first()
                story.append(first)
                running = PLAIN_RUN.start("Starting task run.")
                self._tell(first, running, map_index)
                story.append(running)
            outcome = effects.attempt(self.spec, inputs, None)
            if type(outcome) is PLAIN_RUN.end:
                if running is not None:
                    self._tell(running, outcome, map_index)
                return outcome
            if not story:  # nobody saw them: built now, for the general steps' story
                story = [PLAIN_RUN.first(), PLAIN_RUN.start("Starting task run.")]
            return self._after_first_attempt(story, outcome, ctx, inputs, map_index)
        except (RunCancelled, Exception) as exc:
            return self._ended_by(exc, story, map_index)
        finally:
            reset_context(token)

    def _tell(self, old: State, new: State, idx: int | None) -> None:
        """The listeners' part of :meth:`set_state`, for a transition of the plain row."""
        task = self.spec.task
        for listener in self.listeners:
            listener(task, idx, old, new)

    def _after_first_attempt(
        self,
        story: list[State],
        outcome: State,
        ctx: dict[str, Any],
        inputs: dict[str, Any],
        idx: int | None,
    ) -> State:
        """Carry on after a plain run's first attempt ended in ``outcome`` (not a plain
        ``Success``), as :meth:`_drive` does after an attempt."""
        spec = self.spec
        if isinstance(outcome, Failed) and outcome.error is not None:
            effects.log_failure(spec, outcome.error, 1)
        params: dict[str, Any] = ctx.get("parameters", _EMPTY)
        decision = steps.after_attempt(spec, story[-1], outcome, 1, ctx, _now, inputs, params)
        return self._drive(story, decision, ctx, inputs, None, idx)

    def _ended_by(self, exc: BaseException, story: list[State], idx: int | None) -> State:
        """The state a run ends in when ``exc`` cut it short (``story``: its states so far,
        maybe none on the fast path, where no one saw them); re-raises ``RunCancelled``."""
        name = self.spec.name
        last = story[-1] if story else PLAIN_RUN.first()
        if isinstance(exc, RunCancelled):  # the run is being stopped: this task ends Cancelled
            self._notify(last, Cancelled(f"Task {name!r}: {exc}"), idx)
            raise exc
        if isinstance(exc, UserCodeError):
            return self._safe_fail(last, f"Task {name!r}: {exc}", exc.exc, idx)
        if isinstance(exc, ResultError):  # a bad target/location template or unreadable result
            return self._safe_fail(last, f"Task {name!r}: {exc}", exc, idx)
        logger.exception("headrace failed while running task %r", name, exc_info=exc)
        return self._safe_fail(last, f"Task {name!r}: headrace engine error: {exc!r}", exc, idx)

    __call__ = run  # a Runnable: executors call the runner itself

    def on_worker_lost(
        self,
        error: BaseException,
        upstream_states: Any = None,
        state: State | None = None,
        context: Any = None,
        map_index: int | None = None,
        *_: Any,
    ) -> State:
        """The state of a run the executor could not finish because the workers running it
        (or an upstream run) kept dying; takes ``error`` and then :meth:`run`'s arguments."""
        name = self.spec.name if map_index is None else f"{self.spec.name}[{map_index}]"
        return self._safe_fail(state or Pending(), f"Task {name!r}: {error}", error, map_index)

    def _safe_fail(self, state: State, message: str, exc: BaseException, idx: int | None) -> State:
        return self._notify(state, Failed(message, exc, error=describe_error(exc)), idx)

    def _notify(self, state: State, new: State, idx: int | None) -> State:
        """Tell the listeners of ``new`` without the transition checks and handlers (the run
        is failing or being stopped; its first cause is what counts)."""
        for listener in self.listeners:
            try:
                listener(self.spec.task, idx, state, new)
            except Exception:  # the run is already failing; keep its first error
                logger.exception("listener %r failed on task %r", listener, self.spec.name)
        return new

    def _apply(self, story: list[State], new: State, idx: int | None) -> State:
        """Apply ``new`` after the run's current state (the last of ``story``)."""
        applied = self.set_state(story[-1], new, idx, story)
        story.append(applied)
        return applied

    def _run(
        self,
        story: list[State],
        upstream: Mapping[Edge, State],
        ctx: dict[str, Any],
        constants: Mapping[str, Any],
        idx: int | None,
        map_parent: bool,
    ) -> State:
        """Up to the first instruction: restart, wait for upstream, upstream verdict,
        inputs; then :meth:`_drive`."""
        spec = self.spec
        state = story[-1]
        if state.is_finished():
            restarted = steps.restart(spec, state)
            if restarted is None:
                return state
            if isinstance(state, Looped):  # resume at the iteration after it
                ctx["task_loop_count"] = state.loop_count + 1
                ctx["task_loop_result"] = state.result
            state = self._apply(story, restarted, idx)
        if not steps.upstream_finished(upstream):
            return state
        verdict = steps.upstream_verdict(spec, state, upstream)
        if verdict is not None:
            return self._apply(story, verdict, idx)
        if isinstance(state, Resume):
            ctx["resume"] = True  # lets a task that raises PAUSE go on once approved
        if map_parent:
            return self._apply(story, steps.unmappable(spec, state, upstream), idx)
        inputs = steps.inputs_of(upstream, constants)
        fmt: dict[str, Any] | None = None
        if spec.writes:
            fmt = _formatting(spec.write_keys, ctx, inputs)
        return self._drive(story, steps.begin(spec, state, _now), ctx, inputs, fmt, idx)

    def _drive(
        self,
        story: list[State],
        decision: Decision,
        ctx: dict[str, Any],
        inputs: dict[str, Any],
        fmt: dict[str, Any] | None,
        idx: int | None,
    ) -> State:
        """Apply each decision's state and carry out its instruction until one ends the
        run."""
        spec = self.spec
        params: dict[str, Any] = ctx.get("parameters", _EMPTY)
        state = story[-1]
        named = False  # the run's task_run_name is set before its first attempt
        while True:
            new, todo = decision
            if new is not None:
                state = self.set_state(state, new, idx, story)
                story.append(state)
            if todo is None:
                return state
            if isinstance(todo, Execute):
                if not named:
                    named = True
                    if getattr(spec.task, "task_run_name", None) is not None:  # old pickles
                        ctx["task_run_name"] = task_run_name(spec.task, ctx, inputs)
                ctx["task_run_count"] = todo.run_count
                prints = _task_logger() if spec.task.log_stdout else None
                outcome = effects.attempt(spec, inputs, prints)
                if isinstance(outcome, Failed) and outcome.error is not None:
                    effects.log_failure(spec, outcome.error, todo.run_count)
                decision = steps.after_attempt(
                    spec, state, outcome, todo.run_count, ctx, _now, inputs, params
                )
            elif isinstance(todo, WaitUntil):
                decision = steps.wait(spec, state, todo, _now)
            elif isinstance(todo, Sleep):
                delay = (todo.until - _now()).total_seconds()
                if delay > 0:
                    time.sleep(delay)
                decision = steps.start(spec, state, _now, run_count=todo.run_count)
            elif isinstance(todo, Persist):
                assert fmt is not None
                written = effects.write_result(spec, todo.state, fmt)
                decision = steps.after_persist(spec, written, _now, inputs, params)
            elif isinstance(todo, Remember):
                decision = (self._remember(todo, idx), None)
            elif isinstance(todo, NextIteration):
                looped = todo.looped
                for values in (ctx, fmt):
                    if values is not None:
                        values["task_loop_count"] = looped.loop_count + 1
                        values["task_loop_result"] = looped.result
                decision = steps.start(spec, state, _now, run_count=1)
            elif isinstance(todo, ReadTarget):
                assert fmt is not None
                location, found = effects.read_target(spec, fmt)
                decision = steps.after_target(spec, state, found, location, _now)
            elif isinstance(todo, ReadCache):
                key = spec.cache_key_for(idx)
                hit = effects.lookup_cache(spec, key, self.cache_candidates, inputs, params)
                decision = steps.after_cache(spec, state, hit, _now)
            else:  # pragma: no cover - every instruction is handled above
                raise TypeError(f"unknown instruction {todo!r}")

    def _remember(self, todo: Remember, idx: int | None) -> State:
        """Keep a new cache entry: in this process's cache, or on the state for the flow
        runner (when it sent the runner its candidates, it stores what comes back)."""
        if self.cache_candidates is None:
            effects.store_cache(self.spec.cache_key_for(idx), todo.entry)
            return todo.state
        return replace(todo.state, cache_entry=todo.entry)


_DRIVER = ("run", "_run", "_drive", "set_state", "run_plain")


def _overrides_driver(cls: type[TaskRunner]) -> bool:
    """Whether a subclass changes how runs are driven (then it always gets the general
    path, through its own methods)."""
    return any(getattr(cls, name) is not getattr(TaskRunner, name) for name in _DRIVER)


def _plain_states(upstream: Mapping[Edge, State]) -> bool:
    """Whether every upstream state is a plain success with its result at hand."""
    for up in upstream.values():
        if type(up) not in steps.PLAIN_UPSTREAM or up._value is NOT_LOADED:
            return False
    return True


def _now() -> datetime:
    return datetime.now(UTC)


def _task_logger() -> Any:
    """The logger a task's prints go to (``context.logger``), looked up only when used."""
    from headrace.runcontext import context

    return context.logger


def _formatting(
    keys: frozenset[str] | None, ctx: dict[str, Any], inputs: dict[str, Any]
) -> dict[str, Any]:
    """The keyword arguments a result's write and location template get: the parameters,
    the context (with the task run's id and full name) and the inputs, later ones winning;
    only ``keys`` of them when the result named the ones it reads."""
    params: dict[str, Any] = ctx.get("parameters", _EMPTY)
    if keys is None:
        return {**params, **with_task_run_id(ctx), **inputs}
    out: dict[str, Any] = {}
    for key in keys:
        for source in (inputs, ctx, params):
            if key in source:
                out[key] = source[key]
                break
    return out
