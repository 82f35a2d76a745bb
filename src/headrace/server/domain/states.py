"""Server-side state changes of flow runs and task runs.

Every change is checked with the engine's one transition table
(:func:`headrace.engine.transitions.is_allowed`), plus one server rule: a finished run only
leaves its finished state through the restart endpoint. Changes carry the ``version`` they
apply to; the row is updated with ``WHERE version = :expected`` so two writers racing on one
run cannot both win (the loser gets 409 ``version_conflict``). ``Cancelling`` is a server-only
flow-run state set by the cancel endpoint; for transitions it counts as ``Running``.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.engine import state as engine_state
from headrace.engine.transitions import is_allowed
from headrace.server.db.database import rowcount
from headrace.server.db.models import FlowRun, StateRecord, TaskRun
from headrace.server.domain.history import materialize
from headrace.server.domain.invariants import check_may_succeed
from headrace.server.domain.task_sweep import sweep_task_runs
from headrace.server.errors import InvalidInputError, TransitionError, VersionConflictError
from headrace.wire.names import FAILED_STATE_NAMES, FINISHED_STATE_NAMES, SUCCESS_STATE_NAMES

__all__ = [
    "CANCELLING",
    "FINISHED_NAMES",
    "STATE_NAMES",
    "SUCCESS_NAMES",
    "cancel_unfinished_task_runs",
    "cancelled_why",
    "check_name",
    "check_transition",
    "record",
    "reset_unsuccessful_task_runs",
    "set_flow_run_state",
    "transition_problem",
    "write_state",
]

CANCELLING = "Cancelling"
_KINDS = {
    name: cls
    for name in engine_state.__all__
    if isinstance(cls := getattr(engine_state, name), type) and issubclass(cls, engine_state.State)
}
SUCCESS_NAMES = SUCCESS_STATE_NAMES
FINISHED_NAMES = FINISHED_STATE_NAMES  # not Looped: it ends one iteration, then runs again
RUNNING_NAMES = frozenset({"Running", CANCELLING})
FAILED_NAMES = FAILED_STATE_NAMES


STATE_NAMES = frozenset(set(_KINDS) - {"State", "Finished"})


def check_name(name: str, field: str, cancelling: bool = False) -> None:
    """422 naming ``field`` unless ``name`` is a state kind (``"Success"``...; also
    ``"Cancelling"`` when ``cancelling``, as in a filter of flow runs by state)."""
    if name not in STATE_NAMES and not (cancelling and name == CANCELLING):
        allowed = ", ".join(sorted(STATE_NAMES))
        raise InvalidInputError(f"{field}: unknown state {name!r}; expected one of {allowed}")


def check_transition(old: str, new: str, what: str) -> None:
    """Raise :class:`TransitionError` unless ``what`` may go from ``old`` to ``new``."""
    if new != CANCELLING:
        check_name(new, "state.name")
    problem = transition_problem(old, new)
    if problem is not None:
        raise TransitionError(f"{what}{problem}")


@functools.lru_cache(maxsize=1024)
def transition_problem(old: str, new: str) -> str | None:
    """Why a run may not go from ``old`` to ``new`` (to follow its name), or None when it may.
    A pure function of the two names, cached: batches check thousands of changes with it.
    ``new`` must be a known state name (:func:`check_name`)."""
    if new == CANCELLING:
        return ": Cancelling is set only by the cancel endpoint"
    if old in FINISHED_NAMES:
        return f" is finished ({old}); it cannot become {new} except by a restart"
    if old == CANCELLING and new not in FINISHED_NAMES:
        return f" is being cancelled; it may only finish, not become {new}"
    if not is_allowed("Running" if old == CANCELLING else old, new):
        return f" cannot go from {old} to {new}"
    return None


def record(
    session: Session,
    flow_run_id: str,
    name: str,
    message: str | None,
    serialized: dict[str, Any] | None,
    timestamp: datetime,
    version: int,
    task_run_id: str | None = None,
) -> None:
    session.add(
        StateRecord(
            flow_run_id=flow_run_id,
            task_run_id=task_run_id,
            name=name,
            message=message,
            serialized=serialized,
            timestamp=timestamp,
            version=version,
        )
    )


def write_state(
    session: Session,
    row: FlowRun | TaskRun,
    values: dict[str, Any],
    *,
    message: str | None,
    serialized: dict[str, Any] | None,
    what: str,
) -> None:
    """Write a checked state change of ``row`` (``values``: its new ``state``,
    ``state_timestamp``, ``version``... columns) only if no one changed ``row`` since it was
    read (409 ``version_conflict`` naming ``what`` otherwise), and record it in the history."""
    model = type(row)
    if isinstance(row, TaskRun) and row.history_in_row:
        materialize(session, TaskRun.id == row.id)  # its earlier states become rows first
    result = session.execute(
        sa.update(model)
        .where(model.id == row.id, model.version == row.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise VersionConflictError(f"{what} changed while this state was being set; retry")
    task_run_id = row.id if isinstance(row, TaskRun) else None
    flow_run_id = row.flow_run_id if isinstance(row, TaskRun) else row.id
    stamp = values["state_timestamp"]
    record(
        session,
        flow_run_id,
        values["state"],
        message,
        serialized,
        stamp,
        values["version"],
        task_run_id,
    )


def set_flow_run_state(
    session: Session,
    run: FlowRun,
    name: str,
    *,
    now: datetime,
    message: str | None = None,
    serialized: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
    expected_version: int | None = None,
    checked: bool = True,
    extra: dict[str, Any] | None = None,
    sweep: bool = True,
) -> None:
    """Move ``run`` to state ``name`` (checked unless ``checked`` is False), bump its version.

    A successful ``name`` is refused (409 ``unfinished_task_runs``) while any task run of
    ``run`` has not finished or a reference task did not succeed (:mod:`.invariants`).
    ``extra`` sets more columns in the same UPDATE (the reaper and restart use it). A run
    that becomes Cancelled has its unfinished task runs cancelled too, unless ``sweep`` is
    False (a report does it after applying its own task-run changes).
    """
    what = f"flow run {run.id}"
    if expected_version is not None and expected_version != run.version:
        raise VersionConflictError(
            f"{what} is at version {run.version}, not {expected_version}: "
            f"its state changed to {run.state} meanwhile"
        )
    if checked:
        check_transition(run.state, name, what)
    if name in SUCCESS_NAMES:
        check_may_succeed(session, run, name, FINISHED_NAMES, SUCCESS_NAMES)
    values: dict[str, Any] = {
        "state": name,
        "state_message": message,
        "state_serialized": serialized,
        "state_timestamp": timestamp or now,
        "version": run.version + 1,
    }
    if name == "Running" and run.state not in RUNNING_NAMES:
        values["run_count"] = run.run_count + 1
        values["heartbeat"] = now
        if run.start_time is None:
            values["start_time"] = now
    if name in FINISHED_NAMES:
        values["end_time"] = now
    values.update(extra or {})
    write_state(session, run, values, message=message, serialized=serialized, what=what)
    session.refresh(run)
    if sweep and name == "Cancelled":
        cancel_unfinished_task_runs(session, run.id, now, cancelled_why(message))
    elif sweep and name in FAILED_NAMES:
        fail_unfinished_task_runs(session, run.id, now, message)


def fail_unfinished_task_runs(
    session: Session, flow_run_id: str, now: datetime, message: str | None
) -> int:
    """A flow run that failed from outside its runner (an agent that stopped or killed it,
    the reaper, a user) leaves no task run behind: the running ones become Failed and the
    waiting ones Cancelled, saying why, as the reaper does for a lost runner. A restart
    re-runs them. Returns how many moved."""
    why = f"flow run failed: {message}" if message else "flow run failed"
    moved = sweep_task_runs(session, flow_run_id, ("Running",), "Failed", why, now)
    return moved + cancel_unfinished_task_runs(session, flow_run_id, now, why)


def cancelled_why(message: str | None) -> str:
    """The message of a task run cancelled because its flow run was."""
    return f"flow run cancelled: {message}" if message else "flow run cancelled"


def reset_unsuccessful_task_runs(session: Session, flow_run_id: str, now: datetime) -> int:
    """Move every task run of ``flow_run_id`` that did not succeed back to Pending.

    Successful ones keep their state and its serialized form (where the result was
    persisted), so a restarted run re-runs only what failed. Returns how many were reset.
    """
    return sweep_task_runs(session, flow_run_id, _RESETTABLE, "Pending", "reset for a restart", now)


def cancel_unfinished_task_runs(session: Session, flow_run_id: str, now: datetime, why: str) -> int:
    """Move every task run of ``flow_run_id`` that has not finished to Cancelled with the
    message ``why`` (its flow run was cancelled, or lost): nothing will run them any more,
    and a Pending or Running row would stay so forever. Returns how many were cancelled."""
    return sweep_task_runs(session, flow_run_id, _CANCELLABLE, "Cancelled", why, now)


_RESETTABLE = frozenset(STATE_NAMES - SUCCESS_NAMES - {"Pending"})
_CANCELLABLE = frozenset(
    n for n in STATE_NAMES - FINISHED_NAMES if transition_problem(n, "Cancelled") is None
)
