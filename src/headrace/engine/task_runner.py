"""``TaskRunner``: takes one task (or one mapped child) from its upstream states to a final
state: upstream checks, trigger, cache and target lookups, the call itself with timeout and
retries, checkpointing, and the state handlers at each step.

It is what executors ship to their workers, so it holds only the task and a few settings;
the flow's context arrives as a plain dict with each call.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from headrace.core.edge import Edge
from headrace.core.task import Task
from headrace.engine import cache
from headrace.engine.boundary import UserCodeError, call_user, call_with_timeout
from headrace.engine.errors import InvalidTransitionError, ResultError, TaskTimeoutError
from headrace.engine.signals import ENDRUN, TRIGGERFAIL, HeadraceSignal
from headrace.engine.state import (
    Cached,
    Failed,
    Mapped,
    Pending,
    Resume,
    Retrying,
    Running,
    Skipped,
    State,
    Success,
    TimedOut,
)
from headrace.engine.transitions import check
from headrace.runcontext import reset_context, set_context
from headrace.utilities.logging import get_logger, stdout_capture

__all__ = ["TaskRunner", "check_replacement"]

Listener = Callable[[Task, "int | None", State, State], None]
_EMPTY: dict[str, Any] = {}
logger = get_logger("task_runner")


class TaskRunner:
    """Runs one task of a flow; reused for every mapped child of that task."""

    __slots__ = (
        "cache_candidates",
        "cache_identity",
        "checkpoint",
        "flow_result",
        "listeners",
        "slug",
        "task",
    )

    def __init__(
        self,
        task: Task,
        slug: str | None = None,
        flow_name: str = "",
        flow_result: Any = None,
        checkpoint: bool = False,
        listeners: tuple[Listener, ...] = (),
    ) -> None:
        self.task = task
        self.slug = slug or task.slug or task.name
        self.flow_result = flow_result
        self.checkpoint = checkpoint
        self.listeners = listeners
        fn = getattr(task.run, "__func__", task.run)
        code = f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', type(fn).__name__)}"
        self.cache_identity = f"{flow_name}/{self.slug}/{code}"
        # Set by the flow runner: the cache entries this task may reuse, by cache key. The
        # cache lives in the flow runner's process, so the entries travel with the runner to
        # whichever worker runs it, and new entries travel back on the final state.
        self.cache_candidates: dict[str, list[Cached]] | None = None

    def cache_base(self) -> str:
        """The key this task's results are cached under (``cache_key`` shares it)."""
        return self.task.cache_key or self.cache_identity

    def cache_key_for(self, map_index: int | None) -> str:
        """The cache key of one run: each mapped child caches on its own."""
        base = self.cache_base()
        return base if map_index is None else f"{base}[{map_index}]"

    def __repr__(self) -> str:
        return f"<TaskRunner {self.task.name!r}>"

    # ---- state changes ---------------------------------------------------------------

    def set_state(self, old: State, new: State, map_index: int | None) -> State:
        """Move to ``new``: the task's handlers may replace it, then listeners hear of it.

        Every change is checked against the transition table; a handler's replacement
        that may not follow ``old`` fails the task naming the handler.
        """
        check(old, new)
        for handler in self.task.state_handlers:
            name = getattr(handler, "__name__", handler)
            what = f"state handler {name!r} of task {self.task.name!r}"
            replaced = call_user(what, handler, self.task, old, new)
            if replaced is not None:
                check_replacement(what, old, replaced)
                new = replaced
        for listener in self.listeners:
            listener(self.task, map_index, old, new)
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
        """The task's final state (or ``Pending``/``Paused`` if it cannot go on yet).

        ``map_parent=True`` asks only whether a mapped task whose upstream could not be
        mapped over may proceed: it ends in the upstream checks' verdict or ``Failed``.
        """
        task = self.task
        ctx = dict(context or _EMPTY)
        ctx["task_name"] = task.name
        ctx["task_slug"] = self.slug
        ctx["task_tags"] = task.tags
        ctx["map_index"] = map_index
        ctx.setdefault("task_run_count", 1)
        token = set_context(ctx)
        state = state or Pending()
        try:
            given: Mapping[Edge, State | list[State]] = upstream_states or {}
            upstream: dict[Edge, State] = {
                e: Mapped(map_states=s) if isinstance(s, list) else s for e, s in given.items()
            }
            return self._run(state, upstream, ctx, constants or _EMPTY, map_index, map_parent)
        except UserCodeError as exc:
            return self._safe_fail(state, f"Task {task.name!r}: {exc}", exc.exc, map_index)
        except ResultError as exc:  # a bad target/location template or unreadable result
            return self._safe_fail(state, f"Task {task.name!r}: {exc}", exc, map_index)
        except Exception as exc:
            logger.exception("headrace failed while running task %r", task.name)
            return self._safe_fail(
                state, f"Task {task.name!r}: headrace engine error: {exc!r}", exc, map_index
            )
        finally:
            reset_context(token)

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
        name = self.task.name if map_index is None else f"{self.task.name}[{map_index}]"
        return self._safe_fail(state or Pending(), f"Task {name!r}: {error}", error, map_index)

    def _safe_fail(self, state: State, message: str, exc: BaseException, idx: int | None) -> State:
        new = Failed(message, exc)
        for listener in self.listeners:
            try:
                listener(self.task, idx, state, new)
            except Exception:  # the run is already failing; keep its first error
                logger.exception("listener %r failed on task %r", listener, self.task.name)
        return new

    def _run(
        self,
        state: State,
        upstream: dict[Edge, State],
        ctx: dict[str, Any],
        constants: Mapping[str, Any],
        map_index: int | None,
        map_parent: bool,
    ) -> State:
        task = self.task
        if state.is_finished():
            if state.is_successful():
                return state
            state = self.set_state(state, Pending("Restarting from a failed state."), map_index)
        for up in upstream.values():
            if not up.is_finished():
                return state
        verdict = self._check_upstream(state, upstream, map_index)
        if verdict is not None:
            return verdict
        if isinstance(state, Resume):
            ctx["resume"] = True  # lets a task that raises PAUSE go on once approved
        if map_parent:
            names = sorted({e.upstream_task.name for e in upstream if e.mapped})
            return self.set_state(
                state,
                Failed(
                    f"Task {task.name!r} cannot be mapped over the result of {', '.join(names)}."
                ),
                map_index,
            )
        inputs = dict(constants)
        for edge, up in upstream.items():
            if edge.key is not None:
                inputs[edge.key] = up.result
        fmt: dict[str, Any] | None = None
        if task.target is not None or self._persists():
            fmt = {**ctx.get("parameters", _EMPTY), **ctx, **inputs}
        if task.target is not None:
            assert fmt is not None
            found = self._target_hit(state, fmt, map_index)
            if found is not None:
                return found
        if task.cache_for is not None:
            key = self.cache_key_for(map_index)
            validator = task.cache_validator or cache.duration_only
            params = ctx.get("parameters", _EMPTY)
            if self.cache_candidates is None:
                hit = cache.lookup(key, validator, inputs, params)
            else:
                hit = cache.first_valid(
                    self.cache_candidates.get(key, ()), validator, inputs, params
                )
            if hit is not None:
                return self.set_state(
                    state,
                    Cached(
                        "Cached result found.",
                        hit.result,
                        cached_inputs=hit.cached_inputs,
                        cached_parameters=hit.cached_parameters,
                        cache_expiration=hit.cache_expiration,
                        persisted=hit.persisted,
                    ),
                    map_index,
                )
        return self._attempts(state, inputs, ctx, fmt, map_index)

    def _check_upstream(
        self, state: State, upstream: dict[Edge, State], map_index: int | None
    ) -> State | None:
        """Skip or trigger verdict, or ``None`` to go on."""
        task = self.task
        if task.skip_on_upstream_skip and any(type(s) is Skipped for s in upstream.values()):
            return self.set_state(state, Skipped("Upstream task was skipped."), map_index)
        if isinstance(state, Resume):
            return None
        trigger = task.trigger
        try:
            if trigger is None:
                for up in upstream.values():
                    if not up.is_successful() or (
                        type(up) is Mapped and not all(c.is_successful() for c in up.map_states)
                    ):
                        raise TRIGGERFAIL(
                            "Trigger was 'all_successful' but some upstream tasks failed."
                        )
            elif not call_user(f"trigger of task {task.name!r}", trigger, upstream):
                raise TRIGGERFAIL(
                    f"Trigger {getattr(trigger, '__name__', trigger)!r} returned False."
                )
        except HeadraceSignal as sig:
            new = sig.state
            return self.set_state(state, new, map_index)
        return None

    def _persists(self) -> bool:
        checkpoint = self.task.checkpoint
        if checkpoint is None:
            return self.checkpoint and (self.task.result or self.flow_result) is not None
        return checkpoint

    def _result_handler(self) -> Any:
        chosen = self.task.result or self.flow_result
        if chosen is None:
            from headrace.engine.results.local import LocalResult

            chosen = LocalResult()
        return chosen

    def _target_hit(self, state: State, fmt: dict[str, Any], map_index: int | None) -> State | None:
        handler = self._result_handler()
        location = handler.render_location(self.task.target, fmt)
        if not handler.exists(location):
            return None
        found = handler.read(location)
        return self.set_state(
            state,
            Cached(
                f"Result found at the task's target {location!r}.", found.value, persisted=found
            ),
            map_index,
        )

    def _call(self, inputs: dict[str, Any], ctx: dict[str, Any]) -> Any:
        task = self.task
        what = f"task {task.name!r}"
        fn: Callable[..., Any] = task.run
        if task.log_stdout:
            from headrace.runcontext import context

            fn = functools.partial(_captured, task.run, context.logger)
        if task.timeout is not None:
            return call_with_timeout(what, task.timeout, fn, **inputs)
        try:
            return fn(**inputs)
        except Exception as exc:
            raise UserCodeError(what, exc) from exc

    def _attempts(
        self,
        state: State,
        inputs: dict[str, Any],
        ctx: dict[str, Any],
        fmt: dict[str, Any] | None,
        map_index: int | None,
    ) -> State:
        task = self.task
        run_count = state.run_count + 1 if isinstance(state, Retrying) else 1
        while True:
            ctx["task_run_count"] = run_count
            state = self.set_state(state, Running("Starting task run."), map_index)
            try:
                new: State = Success("Task run succeeded.", self._call(inputs, ctx))
            except UserCodeError as exc:
                new = Failed(
                    f"Task {task.name!r} failed: {type(exc.exc).__name__}: {exc.exc}", exc.exc
                )
            except TaskTimeoutError as exc:
                new = TimedOut(f"Task {task.name!r}: {exc}", exc)
            except ENDRUN as end:
                new = end.state
            except HeadraceSignal as sig:
                new = sig.state
            retry_signal = isinstance(new, Retrying)
            if retry_signal or (isinstance(new, Failed) and self._may_retry(new, run_count)):
                delay = task.retry_delay
                if delay is None:
                    from headrace.configuration import config

                    delay = float(config.tasks.default_retry_delay)
                state = self.set_state(
                    state,
                    Retrying(
                        f"Retrying task {task.name!r} (attempt {run_count + 1}): {new.message}",
                        new._value,
                        start_time=datetime.now(UTC) + timedelta(seconds=delay),
                        run_count=run_count,
                    ),
                    map_index,
                )
                if delay:
                    time.sleep(delay)
                run_count += 1
                continue
            if type(new) is Success:
                new = self._finish_success(new, inputs, ctx, fmt)
            return self.set_state(state, new, map_index)

    def _may_retry(self, failed: State, run_count: int) -> bool:
        task = self.task
        if run_count > task.max_retries:
            return False
        if task.retry_on is None:
            return True
        return isinstance(failed._value, task.retry_on)

    def _finish_success(
        self, new: State, inputs: dict[str, Any], ctx: dict[str, Any], fmt: dict[str, Any] | None
    ) -> State:
        task = self.task
        value = new._value
        if fmt is not None:
            handler = self._result_handler()
            try:
                if task.target is not None:
                    location = handler.render_location(task.target, fmt)
                    handler = handler.copy()
                    handler.location = location
                new.persisted = handler.write(value, **fmt)
            except ResultError as exc:
                return Failed(f"Task {task.name!r}: its result could not be persisted: {exc}", exc)
        if task.cache_for is not None:
            params = ctx.get("parameters", _EMPTY)
            entry = Cached(
                "Cached result found.",
                value,
                cached_inputs=inputs,
                cached_parameters=dict(params),
                cache_expiration=datetime.now(UTC) + task.cache_for,
                persisted=new.persisted,
            )
            if self.cache_candidates is None:
                cache.store(self.cache_key_for(ctx.get("map_index")), entry)
            else:
                assert isinstance(new, Success)
                new.cache_entry = entry
        return new


def check_replacement(what: str, old: State, replaced: Any) -> None:
    """A handler's replacement must be a state that may follow ``old``."""
    if not isinstance(replaced, State):
        raise UserCodeError(
            what, TypeError(f"returned {type(replaced).__name__}, not a State or None")
        )
    try:
        check(old, replaced)
    except InvalidTransitionError as exc:
        raise UserCodeError(what, exc) from None


def _captured(fn: Callable[..., Any], logger: Any, /, **inputs: Any) -> Any:
    """Call ``fn`` with this thread's prints sent to ``logger`` (runs on whichever thread
    runs the task, including a timeout's helper thread)."""
    with stdout_capture(logger):
        return fn(**inputs)
