"""The task runner's steps: pure decisions from a task's spec, its upstream states and its
current state (with what the last instruction produced).

Nothing here performs I/O, sleeps, reads the configuration or changes a state: each step
returns the next state -- built by the transition table from an event
(:func:`~headrace.engine.transitions.transition`), or taken from a signal the task raised
-- and the instruction the driver carries out next (see
:mod:`~headrace.engine.decisions`). The one user code a step calls is a task's trigger,
which judges upstream states. Read top to bottom, this module is one task run:

restart a given finished state -> wait for upstream -> skip / trigger -> target -> cache ->
start (or wait for a start time) -> attempt -> retry / loop / persist / remember -> done.

Most runs take none of the turns: a *plain* task (:func:`plain`: no retries, cache,
target, checkpoint, timeout, trigger of its own, state handlers, captured prints or run
name) given no state, whose upstream states are plain successes
(:data:`PLAIN_UPSTREAM`), goes ``Pending`` -> ``Running`` -> attempt, and ends there when
the attempt succeeds: the row :data:`~headrace.engine.transitions.PLAIN_RUN` of the table.
The driver's fast path takes that row directly; any other outcome of the attempt goes on
through :func:`after_attempt` like every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from headrace.core.edge import Edge
from headrace.engine.boundary import call_user
from headrace.engine.decisions import (
    EXECUTE_FIRST,
    READ_CACHE,
    READ_TARGET,
    STOP,
    Decision,
    Execute,
    NextIteration,
    Persist,
    Remember,
    Sleep,
    WaitUntil,
)
from headrace.engine.signals import TRIGGERFAIL, HeadraceSignal
from headrace.engine.state import (
    Cached,
    Failed,
    Looped,
    Mapped,
    Pending,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Success,
    replace,
)
from headrace.engine.task_spec import TaskSpec
from headrace.engine.transitions import Event, transition
from headrace.engine.triggers import all_successful

__all__ = [
    "PLAIN_UPSTREAM",
    "Clock",
    "after_attempt",
    "after_cache",
    "after_persist",
    "after_target",
    "begin",
    "cache_entry",
    "inputs_of",
    "may_retry",
    "plain",
    "plain_upstream",
    "restart",
    "start",
    "unmappable",
    "upstream_finished",
    "upstream_verdict",
    "wait",
]


#: What a step asks the time of, only when a decision depends on it (a start time, a retry,
#: a cache entry's expiry); the driver gives the wall clock, tests a fixed one.
Clock = Callable[[], datetime]


# ---- the plain run ----------------------------------------------------------------------

#: Upstream kinds that pass :func:`upstream_finished` and :func:`upstream_verdict` of a task
#: with the default trigger, whatever ``skip_on_upstream_skip`` says: finished, successful,
#: not skipped, and no children to look at.
PLAIN_UPSTREAM: frozenset[type[State]] = frozenset({Success, Cached})


def plain(spec: TaskSpec) -> bool:
    """Whether the task's runs may take the plain row (``Pending`` -> ``Running`` ->
    ``Success``) without the steps in between: no target, cache, checkpoint, timeout,
    retries, trigger of its own, state handlers, captured prints or run name."""
    task = spec.task
    return (
        not spec.writes
        and spec.timeout is None
        and task.target is None
        and task.cache_for is None
        and task.max_retries == 0
        and task.trigger is None
        and not task.state_handlers
        and not task.log_stdout
        and getattr(task, "task_run_name", None) is None
    )


def plain_upstream(spec: TaskSpec, upstream: Mapping[Edge, State]) -> bool:
    """Whether ``upstream`` lets a plain task's run start at once: every state finished and
    the skip check and the default trigger passed (what :func:`upstream_finished` and
    :func:`upstream_verdict` ask of it, state by state, so the states a chunk of mapped
    children share are asked once for the chunk)."""
    return upstream_finished(upstream) and upstream_verdict(spec, Pending(), upstream) is None


# ---- before the task may run -------------------------------------------------------------


def restart(spec: TaskSpec, state: State) -> State | None:
    """For a run given a finished state: ``None`` to keep it (successful, or any finished
    state but a loop's when the run keeps finished states), else the ``Pending`` state it
    restarts from (a ``Looped`` one resumes at the next iteration)."""
    if state.is_successful() or (spec.keep_finished and not isinstance(state, Looped)):
        return None
    return transition(state, Event.RESTART, "Restarting from a failed state.")


def upstream_finished(upstream: Mapping[Edge, State]) -> bool:
    """Whether every upstream run finished (a mapped one: each of its children)."""
    for up in upstream.values():
        if not up.is_finished():
            return False
        if isinstance(up, Mapped) and not all(c.is_finished() for c in up.map_states):
            return False
    return True


def upstream_verdict(spec: TaskSpec, state: State, upstream: Mapping[Edge, State]) -> State | None:
    """``Skipped`` (an upstream task skipped) or the trigger's failure, or ``None`` to go on.

    A resumed task (``Resume``) was already approved, so its trigger is not asked again.
    """
    task = spec.task
    if task.skip_on_upstream_skip:
        for up in upstream.values():
            if type(up) is Skipped:
                return transition(state, Event.SKIP, "Upstream task was skipped.")
    if isinstance(state, Resume):
        return None
    trigger = task.trigger
    try:
        if trigger is None:  # the default; our own code, so no user-code boundary
            all_successful(upstream)
        elif not call_user(f"trigger of task {task.name!r}", trigger, upstream):
            raise TRIGGERFAIL(f"Trigger {getattr(trigger, '__name__', trigger)!r} returned False.")
    except HeadraceSignal as sig:
        return sig.state
    return None


def unmappable(spec: TaskSpec, state: State, upstream: Mapping[Edge, State]) -> State:
    """The failure of a mapped task whose mapped upstream gave nothing to map over."""
    names = sorted({e.upstream_task.name for e in upstream if e.mapped})
    message = f"Task {spec.name!r} cannot be mapped over the result of {', '.join(names)}."
    return transition(state, Event.FAIL, message)


def inputs_of(upstream: Mapping[Edge, State], constants: Mapping[str, Any]) -> dict[str, Any]:
    """The task's keyword arguments: its constants and its keyed upstream results."""
    inputs = dict(constants)
    for edge, up in upstream.items():
        if edge.key is not None:
            inputs[edge.key] = up.result
    return inputs


# ---- earlier results ---------------------------------------------------------------------


def begin(spec: TaskSpec, state: State, clock: Clock) -> Decision:
    """The first thing a task that may run does: look at its target, else its cache,
    else start."""
    if spec.task.target is not None:
        return (None, READ_TARGET)
    if spec.task.cache_for is not None:
        return (None, READ_CACHE)
    return start(spec, state, clock)


def after_target(spec: TaskSpec, state: State, found: Any, location: str, clock: Clock) -> Decision:
    """``Cached`` with the result ``found`` at the target (a ``Result``), else go on to
    the cache or the start."""
    if found is not None:
        message = f"Result found at the task's target {location!r}."
        return (transition(state, Event.CACHE_HIT, message, found.value, persisted=found), None)
    if spec.task.cache_for is not None:
        return (None, READ_CACHE)
    return start(spec, state, clock)


def after_cache(spec: TaskSpec, state: State, hit: Cached | None, clock: Clock) -> Decision:
    """``Cached`` from a still-valid cache entry, else start."""
    if hit is None:
        return start(spec, state, clock)
    found = transition(
        state,
        Event.CACHE_HIT,
        "Cached result found.",
        hit.result,
        cached_inputs=hit.cached_inputs,
        cached_parameters=hit.cached_parameters,
        cache_expiration=hit.cache_expiration,
        persisted=hit.persisted,
    )
    return (found, None)


# ---- attempts ----------------------------------------------------------------------------


def start(spec: TaskSpec, state: State, clock: Clock, run_count: int | None = None) -> Decision:
    """Start attempt ``run_count`` (after a ``Retrying`` state: the one after it; else the
    first), or wait for the state's start time if it is ahead."""
    if run_count is None and type(state) is Pending:  # the usual first start: nothing to wait for
        return (transition(state, Event.START, "Starting task run."), EXECUTE_FIRST)
    if run_count is None:
        run_count = state.run_count + 1 if isinstance(state, Retrying) else 1
        when = state.start_time if isinstance(state, Scheduled) else None
        if when is not None and when > clock():
            return (None, WaitUntil(when, run_count))
    if isinstance(state, Running):  # given Running (a run cut short): start it afresh
        running: State = Running("Starting task run.")
    else:
        running = transition(state, Event.START, "Starting task run.")
    return (running, EXECUTE_FIRST if run_count == 1 else Execute(run_count))


def wait(spec: TaskSpec, state: State, todo: WaitUntil, clock: Clock) -> Decision:
    """What waiting for a start time comes to, in the applied ``state`` (a state handler
    may have changed its ``start_time``, or ended the run): stop there when it is finished
    or when the run's pass returns such states (``retry_later``: the flow run comes back
    for it), sleep until the start time when it is ahead, else start attempt
    ``todo.run_count``."""
    when = state.start_time if isinstance(state, Scheduled) else None
    if when is None:
        when = todo.when
    if not isinstance(state, Scheduled) and state.is_finished():
        return STOP  # a state handler ended the run instead
    if when is not None and when > clock():
        if spec.retry_later and isinstance(state, Scheduled):
            return STOP
        return (None, Sleep(when, todo.run_count))
    return start(spec, state, clock, run_count=todo.run_count)


def may_retry(spec: TaskSpec, failed: State, run_count: int) -> bool:
    """Whether attempt ``run_count``'s failure leaves a retry (``max_retries``, ``retry_on``)."""
    task = spec.task
    if run_count > task.max_retries:
        return False
    if task.retry_on is None:
        return True
    return isinstance(failed._value, task.retry_on)


def after_attempt(
    spec: TaskSpec,
    state: State,
    outcome: State,
    run_count: int,
    context: Mapping[str, Any],
    clock: Clock,
    inputs: dict[str, Any],
    parameters: Mapping[str, Any],
) -> Decision:
    """What follows attempt ``run_count``, which ended in ``outcome`` (``context``: the
    run's, which counts a loop's iterations): the next iteration
    of a loop, a retry at ``clock()`` + the retry delay, or the final state (persisted and
    cached first when the task asks)."""
    if type(outcome) is Success and not spec.writes and spec.task.cache_for is None:
        return (outcome, None)  # the usual end, first
    if isinstance(outcome, Looped):
        loop_count = int(context.get("task_loop_count", 1))
        message = outcome.message or f"Task {spec.name!r} looped (iteration {loop_count})."
        looped = replace(outcome, loop_count=loop_count, message=message)
        if spec.writes:
            return (None, Persist(looped))
        return (looped, NextIteration(looped))
    if isinstance(outcome, Retrying) or (
        isinstance(outcome, Failed) and may_retry(spec, outcome, run_count)
    ):
        when = clock() + timedelta(seconds=spec.retry_delay)
        retrying = transition(
            state,
            Event.RETRY,
            f"Retrying task {spec.name!r} (attempt {run_count + 1}): {outcome.message}",
            outcome._value,
            error=getattr(outcome, "error", None),
            start_time=when,
            run_count=run_count,
        )
        return (retrying, WaitUntil(when, run_count + 1))
    if type(outcome) is Success:
        if spec.writes:
            return (None, Persist(outcome))
        if spec.task.cache_for is not None:
            return (
                None,
                Remember(outcome, cache_entry(spec, outcome, inputs, parameters, clock())),
            )
    return (outcome, None)


def after_persist(
    spec: TaskSpec,
    written: State,
    clock: Clock,
    inputs: dict[str, Any],
    parameters: Mapping[str, Any],
) -> Decision:
    """What follows writing a result: ``written`` holds where it went, or is the
    ``Failed`` state of a write that failed."""
    if isinstance(written, Looped):
        return (written, NextIteration(written))
    if type(written) is Success and spec.task.cache_for is not None:
        return (None, Remember(written, cache_entry(spec, written, inputs, parameters, clock())))
    return (written, None)


def cache_entry(
    spec: TaskSpec,
    new: State,
    inputs: dict[str, Any],
    parameters: Mapping[str, Any],
    now: datetime,
) -> Cached:
    """The cache entry a successful run leaves for ``cache_for``."""
    cache_for = spec.task.cache_for
    assert cache_for is not None
    return Cached(
        "Cached result found.",
        new._value,
        cached_inputs=inputs,
        cached_parameters=dict(parameters),
        cache_expiration=now + cache_for,
        persisted=new.persisted,
    )
