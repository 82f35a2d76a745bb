"""Whether a task may run, judged from its upstream states: upstream skips, the task's
trigger, and mapped tasks whose upstream could not be mapped over.

Each check answers with the state the task ends in, or ``None`` to let it go on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from headrace.core.edge import Edge
from headrace.engine.boundary import call_user
from headrace.engine.signals import TRIGGERFAIL, HeadraceSignal
from headrace.engine.state import Failed, Resume, Skipped, State
from headrace.engine.triggers import all_successful

if TYPE_CHECKING:
    from headrace.engine.task_runner import TaskRunner

__all__ = ["unmappable", "upstream_verdict"]


def upstream_verdict(
    runner: TaskRunner, state: State, upstream: dict[Edge, State], map_index: int | None
) -> State | None:
    """Skipped (an upstream task skipped) or the trigger's failure, or ``None`` to go on.

    A resumed task (``Resume``) was already approved, so its trigger is not asked again.
    """
    task = runner.task
    if task.skip_on_upstream_skip and any(type(s) is Skipped for s in upstream.values()):
        return runner.set_state(state, Skipped("Upstream task was skipped."), map_index)
    if isinstance(state, Resume):
        return None
    trigger = task.trigger
    try:
        if trigger is None:  # the default; our own code, so no user-code boundary
            all_successful(upstream)
        elif not call_user(f"trigger of task {task.name!r}", trigger, upstream):
            raise TRIGGERFAIL(f"Trigger {getattr(trigger, '__name__', trigger)!r} returned False.")
    except HeadraceSignal as sig:
        return runner.set_state(state, sig.state, map_index)
    return None


def unmappable(
    runner: TaskRunner, state: State, upstream: dict[Edge, State], map_index: int | None
) -> State:
    """The failure of a mapped task whose mapped upstream gave nothing to map over."""
    names = sorted({e.upstream_task.name for e in upstream if e.mapped})
    message = f"Task {runner.task.name!r} cannot be mapped over the result of {', '.join(names)}."
    return runner.set_state(state, Failed(message), map_index)
