"""``TaskRunner``: takes one task (or one mapped child) from its upstream states to a final
state, calling the state handlers at each step.

The steps live in their own modules: :mod:`~headrace.engine.upstream` (upstream skips and
the trigger), :mod:`~headrace.engine.reuse` (target and cache lookups),
:mod:`~headrace.engine.attempts` (the calls, timeout and retries) and
:mod:`~headrace.engine.checkpoint` (persisting results). This module holds the order
they run in and what surrounds them: the run's context and the failure of last resort.

It is what executors ship to their workers, so it holds only the task and a few settings;
the flow's context arrives as a plain dict with each call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from headrace.core.edge import Edge
from headrace.core.task import Task
from headrace.engine.attempts import run_attempts
from headrace.engine.boundary import UserCodeError
from headrace.engine.checkpoint import persists
from headrace.engine.context_keys import with_task_run_id
from headrace.engine.errors import ResultError
from headrace.engine.failure import describe_error
from headrace.engine.handlers import check_replacement, run_handlers
from headrace.engine.looping import resume_loop
from headrace.engine.retry_waits import children_finished
from headrace.engine.reuse import cache_hit, target_hit
from headrace.engine.signals import RunCancelled
from headrace.engine.state import (
    Cached,
    Cancelled,
    Failed,
    Looped,
    Mapped,
    Pending,
    Resume,
    State,
)
from headrace.engine.transitions import check
from headrace.engine.upstream import unmappable, upstream_verdict
from headrace.runcontext import reset_context, set_context
from headrace.utilities.logging import get_logger

__all__ = ["Recall", "TaskRunner", "check_replacement"]

Listener = Callable[[Task, "int | None", State, State], None]
# (task slug, first map index, count) -> the finished states of those mapped children
# recorded outside this process, None where there is none (see TaskRunner.recall).
Recall = Callable[[str, int, int], "Sequence[State | None] | None"]
_EMPTY: dict[str, Any] = {}
logger = get_logger("task_runner")


class TaskRunner:
    """Runs one task of a flow; reused for every mapped child of that task."""

    __slots__ = (
        "cache_candidates",
        "cache_identity",
        "checkpoint",
        "flow_result",
        "keep_finished",
        "listeners",
        "recall",
        "retry_later",
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
        # Set by a runner that records states elsewhere (the backend): asked by a chunk of
        # mapped children before it runs them, so a chunk that a cluster runs again (its
        # worker died) reuses the children that had already finished and were recorded.
        self.recall: Recall | None = None
        # Set by the flow runner (Prefect's split between FlowRunner.run and flow.run):
        # retry_later returns a Retrying state whose start time is ahead instead of
        # sleeping; keep_finished keeps a given finished state instead of running again.
        self.retry_later = False
        self.keep_finished = False

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
        handlers = self.task.state_handlers
        if handlers:
            new = run_handlers(f"task {self.task.name!r}", self.task, handlers, old, new)
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
        ctx.setdefault("task_loop_count", 1)
        token = set_context(ctx)
        state = state or Pending()
        try:
            given: Mapping[Edge, State | list[State]] = upstream_states or {}
            upstream: dict[Edge, State] = {
                e: Mapped(map_states=s) if isinstance(s, list) else s for e, s in given.items()
            }
            return self._run(state, upstream, ctx, constants or _EMPTY, map_index, map_parent)
        except RunCancelled as stop:  # the run is being stopped: this task ends Cancelled
            self._notify(state, Cancelled(f"Task {task.name!r}: {stop}"), map_index)
            raise
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
        return self._notify(state, Failed(message, exc, error=describe_error(exc)), idx)

    def _notify(self, state: State, new: State, idx: int | None) -> State:
        """Tell the listeners of ``new`` without the transition checks and handlers (the run
        is failing or being stopped; its first cause is what counts)."""
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
        """The steps in order: restart, wait for upstream, upstream verdict, earlier
        results (target, cache), then the attempts."""
        task = self.task
        if state.is_finished():
            if state.is_successful() or (self.keep_finished and not isinstance(state, Looped)):
                return state
            resume_loop(state, ctx)
            state = self.set_state(state, Pending("Restarting from a failed state."), map_index)
        for up in upstream.values():
            if not up.is_finished() or (isinstance(up, Mapped) and not children_finished(up)):
                return state
        verdict = upstream_verdict(self, state, upstream, map_index)
        if verdict is not None:
            return verdict
        if isinstance(state, Resume):
            ctx["resume"] = True  # lets a task that raises PAUSE go on once approved
        if map_parent:
            return unmappable(self, state, upstream, map_index)
        inputs = dict(constants)
        for edge, up in upstream.items():
            if edge.key is not None:
                inputs[edge.key] = up.result
        fmt: dict[str, Any] | None = None
        if task.target is not None or persists(self):
            fmt = {**ctx.get("parameters", _EMPTY), **with_task_run_id(ctx), **inputs}
        if task.target is not None:
            assert fmt is not None
            found = target_hit(self, state, fmt, map_index)
            if found is not None:
                return found
        if task.cache_for is not None:
            found = cache_hit(self, state, inputs, ctx, map_index)
            if found is not None:
                return found
        return run_attempts(self, state, inputs, ctx, fmt, map_index)
