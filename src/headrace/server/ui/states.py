"""The state vocabulary the web UI shows, taken from the engine's state classes.

``GET /api/ui/states`` answers every state a run can be in, in the engine's order
(:data:`headrace.engine.state.KINDS`, with the server's own ``Cancelling`` before
``Cancelled``), each with the colour group the UI paints it in and whether it is finished
or failed. The UI keeps no list of its own: a state added to the engine shows up in the
run filter and gets its colour from its place in the class hierarchy.
"""

from __future__ import annotations

from typing import Any

from headrace.engine import state as engine_state
from headrace.server.domain.states import CANCELLING, FAILED_NAMES, FINISHED_NAMES, SUCCESS_NAMES

__all__ = ["group_of", "ui_states"]


def group_of(kind: type[engine_state.State]) -> str:
    """The colour group of a state class (the UI's ``st-<group>`` CSS class): decided by
    what the state is a kind of, most specific first."""
    if issubclass(kind, engine_state.Skipped):
        return "skip"
    if issubclass(kind, engine_state.Success):
        return "ok"
    if issubclass(kind, engine_state.Failed):
        return "bad"
    if issubclass(kind, engine_state.Cancelled):
        return "cancel"
    if issubclass(kind, engine_state.Looped | engine_state.Retrying):
        return "retry"
    if issubclass(kind, engine_state.Running):
        return "run"
    if kind is engine_state.Pending or issubclass(kind, engine_state.Paused):
        return "pending"
    return "wait"  # Scheduled, Submitted, Resume: waiting for their time or a worker


def _entry(name: str, group: str) -> dict[str, Any]:
    return {
        "name": name,
        "group": group,
        "finished": name in FINISHED_NAMES,
        "failed": name in FAILED_NAMES,
        "success": name in SUCCESS_NAMES,
    }


def ui_states() -> list[dict[str, Any]]:
    """Every state name with its colour group and kind flags, in the engine's order."""
    states: list[dict[str, Any]] = []
    for kind in engine_state.KINDS:
        if kind is engine_state.Cancelled:
            states.append(_entry(CANCELLING, "cancel"))  # a run being cancelled (server only)
        states.append(_entry(kind.__name__, group_of(kind)))
    return states
