"""Looping tasks: a task that raises ``LOOP(result=...)`` ends the iteration ``Looped`` and
runs again, reading the last iteration's result and its number from the context.

``context.task_loop_count`` is 1 on the first iteration and ``task_loop_result`` is absent
until a ``LOOP`` sets it. Each iteration is a state change the handlers and listeners see
(``Running`` -> ``Looped`` -> ``Running`` ...), its result is persisted like a final
result when the task checkpoints (so a ``target``/location template may use
``{task_loop_count}``), and retries count per iteration. A run given a ``Looped`` state
(a restart) resumes with the iteration after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headrace.engine.checkpoint import persist
from headrace.engine.state import Looped, State

if TYPE_CHECKING:
    from headrace.engine.task_runner import TaskRunner

__all__ = ["next_iteration", "resume_loop"]


def _advance(values: dict[str, Any], looped: Looped) -> None:
    values["task_loop_count"] = looped.loop_count + 1
    values["task_loop_result"] = looped.result


def next_iteration(
    runner: TaskRunner,
    state: State,
    looped: Looped,
    ctx: dict[str, Any],
    fmt: dict[str, Any] | None,
    map_index: int | None,
) -> State:
    """Record the iteration that just ended ``Looped`` (persisting its result when the
    task checkpoints) and set the context up for the next one; the new current state,
    or ``Failed`` when the result could not be persisted."""
    count = int(ctx.get("task_loop_count", 1))
    looped.loop_count = count
    if not looped.message:
        looped.message = f"Task {runner.task.name!r} looped (iteration {count})."
    if fmt is not None:
        written = persist(runner, looped, fmt)
        if written.is_failed():
            return runner.set_state(state, written, map_index)
    state = runner.set_state(state, looped, map_index)
    _advance(ctx, looped)
    if fmt is not None:
        _advance(fmt, looped)
    return state


def resume_loop(state: State, ctx: dict[str, Any]) -> None:
    """When a run starts again from a ``Looped`` state, continue with the next iteration."""
    if isinstance(state, Looped):
        _advance(ctx, state)
