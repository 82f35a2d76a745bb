"""Creating, restarting and cancelling flow runs.

A new run starts ``Scheduled`` at version 1 with one ``Pending`` task run (version 0) per
task of its flow version, inserted in bulk. Creation is idempotent per flow group and
``idempotency_key`` (the scheduler uses ``auto:<time>`` keys, so one scheduled time gives at
most one run even when two schedulers race): the insert skips on conflict and the existing
run is returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from headrace.server.db.models import Flow, FlowRun, FlowRunLabel, TaskRun, new_id
from headrace.server.domain.states import (
    CANCELLING,
    FINISHED_NAMES,
    record,
    reset_unsuccessful_task_runs,
    set_flow_run_state,
)
from headrace.server.errors import InvalidInputError, TransitionError

__all__ = [
    "cancel_flow_run",
    "check_parameters",
    "create_flow_run",
    "pending_task_run",
    "rename_flow_run",
    "restart_flow_run",
]

NOT_STARTED = frozenset({"Pending", "Scheduled", "Paused", "Retrying", "Resume"})


def check_parameters(flow: Flow, parameters: dict[str, Any]) -> None:
    """Unknown or missing required parameters are a 422 naming the parameter."""
    declared = {p["name"]: p for p in flow.document.get("parameters", [])}
    for name in parameters:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InvalidInputError(
                f"parameters.{name}: flow {flow.name!r} has no parameter {name!r} "
                f"(it has: {known})",
                field=f"parameters.{name}",
            )
    for name, spec in declared.items():
        if spec.get("required") and name not in parameters:
            raise InvalidInputError(
                f"parameters.{name}: required parameter of flow {flow.name!r} is missing",
                field=f"parameters.{name}",
            )


def _insert_ignoring_duplicate(session: Session, values: dict[str, Any]) -> bool:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(FlowRun).values(**values)
    if values.get("idempotency_key") is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["flow_group_id", "idempotency_key"])
    return session.execute(stmt.returning(FlowRun.id)).first() is not None


def pending_task_run(
    flow_run_id: str,
    task_slug: str,
    map_index: int,
    task_name: str,
    tags: list[str],
    now: datetime,
) -> dict[str, Any]:
    """The row of a new task run (Pending, version 0), for a bulk INSERT."""
    return {
        "id": new_id(),
        "flow_run_id": flow_run_id,
        "task_slug": task_slug,
        "task_name": task_name,
        "map_index": map_index,
        "tags": tags,
        "state": "Pending",
        "state_timestamp": now,
        "version": 0,
        "created": now,
    }


def create_flow_run(
    session: Session,
    flow: Flow,
    *,
    now: datetime,
    parameters: dict[str, Any] | None = None,
    labels: list[str] | None = None,
    scheduled_start: datetime | None = None,
    idempotency_key: str | None = None,
    run_config: dict[str, Any] | None = None,
    name: str | None = None,
    max_retries: int = 0,
    auto_scheduled: bool = False,
    backfill_id: str | None = None,
    parent_task_run_id: str | None = None,
) -> tuple[FlowRun, bool]:
    """Create a run of ``flow`` (or return the one with the same idempotency key)."""
    parameters = parameters or {}
    check_parameters(flow, parameters)
    run_id = new_id()
    start = scheduled_start or now
    run_labels = sorted(set(flow.labels if labels is None else labels))
    values = {
        "id": run_id,
        "flow_id": flow.id,
        "flow_group_id": flow.flow_group_id,
        "project_id": flow.project_id,
        "name": name or f"{flow.name}-{start:%Y%m%d-%H%M%S}-{run_id[:6]}",
        "parameters": parameters,
        "labels": run_labels,
        "run_config": run_config if run_config is not None else flow.document.get("run_config"),
        "idempotency_key": idempotency_key,
        "auto_scheduled": auto_scheduled,
        "scheduled_start": start,
        "state": "Scheduled",
        "state_message": None,
        "state_timestamp": now,
        "version": 1,
        "max_retries": max_retries,
        "run_count": 0,
        "is_late": False,
        "created": now,
        "backfill_id": backfill_id,
        "parent_task_run_id": parent_task_run_id,
    }
    if not _insert_ignoring_duplicate(session, values):
        existing = session.scalar(
            sa.select(FlowRun).where(
                FlowRun.flow_group_id == flow.flow_group_id,
                FlowRun.idempotency_key == idempotency_key,
            )
        )
        assert existing is not None
        return existing, False
    if run_labels:
        session.execute(
            sa.insert(FlowRunLabel), [{"flow_run_id": run_id, "label": lb} for lb in run_labels]
        )
    tasks = [
        pending_task_run(
            run_id, t["slug"], -1, str(t.get("name") or t["slug"]), sorted(t.get("tags") or []), now
        )
        for t in flow.document.get("tasks", [])
    ]
    if tasks:
        session.execute(sa.insert(cast(sa.Table, TaskRun.__table__)), tasks)
    record(session, run_id, "Scheduled", None, None, now, 1)
    run = session.get(FlowRun, run_id)
    assert run is not None
    return run, True


def restart_flow_run(session: Session, run: FlowRun, now: datetime, message: str) -> int:
    """Failed/cancelled run -> Scheduled now; successful task runs kept, others reset."""
    if run.state not in FINISHED_NAMES:
        raise TransitionError(f"flow run {run.id} is {run.state}; only a finished run restarts")
    reset = reset_unsuccessful_task_runs(session, run.id, now)
    set_flow_run_state(
        session,
        run,
        "Scheduled",
        now=now,
        message=message,
        checked=False,
        extra={
            "scheduled_start": now,
            "is_late": False,
            "agent_id": None,
            "claimed_at": None,
            "heartbeat": None,
            "end_time": None,
        },
    )
    return reset


def rename_flow_run(session: Session, run: FlowRun, name: str) -> None:
    """Give the run a new name (Prefect's ``RenameFlowRun``); its states do not change."""
    run.name = name
    session.flush()


def cancel_flow_run(session: Session, run: FlowRun, now: datetime) -> None:
    """Not started -> Cancelled; claimed or running -> Cancelling (its agent stops it)."""
    if run.state in FINISHED_NAMES:
        raise TransitionError(f"flow run {run.id} is already finished ({run.state})")
    if run.state == CANCELLING:
        return
    if run.state in NOT_STARTED:
        set_flow_run_state(session, run, "Cancelled", now=now, message="cancelled before start")
    else:
        set_flow_run_state(
            session, run, CANCELLING, now=now, message="cancel requested", checked=False
        )
