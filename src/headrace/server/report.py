"""The runner's batched report: many task-run state changes, a flow-run state change, log
records and a heartbeat in one request and one transaction.

Retry safety works at two levels. A batch with a ``batch_id`` that was already applied
returns the stored answer without touching anything. Each task-run change carries the
``version`` it applies to: a change whose version is current is applied (version + 1); one
that was applied already (the row is one version ahead in that very state) is reported
``duplicate``; anything else is a ``conflict``. Task runs that do not exist yet (mapped
children) are created on the fly, in bulk, at version 0. Changes are applied in order, so a
batch may move one task run Pending -> Running -> Success with versions 0, 1, 2.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.errors import ConcurrencyLimitError, ServerError
from headrace.server.models import ConcurrencyLimit, FlowRun, Log, ReportBatch, StateRecord, TaskRun
from headrace.server.models import new_id as make_id
from headrace.server.schemas import LogIn, ReportIn, ReportOut, TaskStateChange, TaskStateResult
from headrace.server.states import CANCELLING, check_transition, set_flow_run_state

__all__ = ["apply_report", "check_task_concurrency", "insert_logs"]

Key = tuple[str, int]
CHUNK = 400


def _load_task_runs(session: Session, flow_run_id: str, keys: list[Key]) -> dict[Key, TaskRun]:
    found: dict[Key, TaskRun] = {}
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i : i + CHUNK]
        rows = session.scalars(
            sa.select(TaskRun)
            .where(
                TaskRun.flow_run_id == flow_run_id,
                sa.tuple_(TaskRun.task_slug, TaskRun.map_index).in_(chunk),
            )
            .with_for_update()
        )
        found.update({(r.task_slug, r.map_index): r for r in rows})
    return found


def _task_run_ids(session: Session, flow_run_id: str, keys: list[Key]) -> dict[Key, str]:
    ids: dict[Key, str] = {}
    for i in range(0, len(keys), CHUNK):
        rows = session.execute(
            sa.select(TaskRun.task_slug, TaskRun.map_index, TaskRun.id).where(
                TaskRun.flow_run_id == flow_run_id,
                sa.tuple_(TaskRun.task_slug, TaskRun.map_index).in_(keys[i : i + CHUNK]),
            )
        )
        ids.update({(slug, index): ident for slug, index, ident in rows})
    return ids


def _create_missing(
    session: Session,
    flow_run_id: str,
    changes: list[TaskStateChange],
    found: dict[Key, TaskRun],
    now: datetime,
) -> None:
    missing: dict[Key, TaskStateChange] = {}
    for change in changes:
        key = (change.task_slug, change.map_index)
        if key not in found:
            missing.setdefault(key, change)
    if not missing:
        return
    parents = _load_task_runs(session, flow_run_id, [(slug, -1) for slug, _ in missing])
    rows = []
    for (slug, index), change in missing.items():
        parent = parents.get((slug, -1))
        rows.append(
            {
                "id": make_id(),
                "flow_run_id": flow_run_id,
                "task_slug": slug,
                "task_name": change.task_name or (parent.task_name if parent else slug),
                "map_index": index,
                "tags": sorted(
                    change.tags if change.tags is not None else (parent.tags if parent else [])
                ),
                "state": "Pending",
                "state_timestamp": now,
                "version": 0,
                "created": now,
            }
        )
    session.execute(sa.insert(TaskRun), rows)
    found.update(_load_task_runs(session, flow_run_id, list(missing)))


def check_task_concurrency(session: Session, tags: list[str]) -> None:
    """Refuse to start a task run whose tag's concurrency limit is already reached.

    The count query autoflushes the session, so task runs started earlier in the same batch
    are counted too.
    """
    if not tags:
        return
    limits = session.scalars(
        sa.select(ConcurrencyLimit)
        .where(ConcurrencyLimit.kind == "task_tag", ConcurrencyLimit.name.in_(tags))
        .with_for_update()
    ).all()
    if not limits:
        return
    running = session.scalars(sa.select(TaskRun.tags).where(TaskRun.state == "Running")).all()
    for limit in limits:
        active = sum(limit.name in row_tags for row_tags in running)
        if active + 1 > limit.limit:
            raise ConcurrencyLimitError(
                f"concurrency limit of task tag {limit.name!r} reached ({active}/{limit.limit})"
            )


def insert_logs(
    session: Session,
    flow_run_id: str,
    logs: list[LogIn],
    now: datetime,
    task_ids: dict[Key, str] | None = None,
) -> int:
    rows = []
    for log in logs:
        task_run_id = log.task_run_id
        if task_run_id is None and task_ids and log.task_slug is not None:
            task_run_id = task_ids.get(
                (log.task_slug, -1 if log.map_index is None else log.map_index)
            )
        rows.append(
            {
                "flow_run_id": flow_run_id,
                "task_run_id": task_run_id,
                "task_slug": log.task_slug,
                "map_index": log.map_index,
                "timestamp": log.timestamp or now,
                "level": log.level,
                "name": log.name,
                "message": log.message,
            }
        )
    if rows:
        session.execute(sa.insert(Log), rows)
    return len(rows)


def _apply_task_change(
    session: Session,
    row: TaskRun,
    change: TaskStateChange,
    now: datetime,
    history: list[dict[str, Any]],
) -> TaskStateResult:
    def result(status: Any, detail: str | None = None) -> TaskStateResult:
        return TaskStateResult(
            task_slug=row.task_slug,
            map_index=row.map_index,
            task_run_id=row.id,
            status=status,
            state=row.state,
            version=row.version,
            detail=detail,
        )

    new = change.state.name
    if change.version is not None and change.version != row.version:
        if row.version == change.version + 1 and row.state == new:
            return result("duplicate")
        return result("conflict", f"task run is at version {row.version}, not {change.version}")
    if (
        change.version is None
        and row.state == new
        and row.state_timestamp == change.state.timestamp
    ):
        return result("duplicate")
    what = f"task run {row.task_slug}[{row.map_index}]"
    try:
        check_transition(row.state, new, what)
        if new == "Running" and row.state != "Running":
            check_task_concurrency(session, row.tags)
    except ServerError as exc:
        return result("rejected", exc.message)
    row.state = new
    row.state_message = change.state.message
    row.state_serialized = change.state.serialized
    row.state_timestamp = change.state.timestamp or now
    row.version += 1
    history.append(
        {
            "flow_run_id": row.flow_run_id,
            "task_run_id": row.id,
            "name": new,
            "message": row.state_message,
            "serialized": row.state_serialized,
            "timestamp": row.state_timestamp,
            "version": row.version,
        }
    )
    return result("applied")


def apply_report(session: Session, run: FlowRun, report: ReportIn, now: datetime) -> ReportOut:
    """Apply one batch for ``run`` (locked by the caller) and say what happened to each part."""
    if report.batch_id:
        done = session.get(ReportBatch, report.batch_id)
        if done is not None and done.flow_run_id == run.id:
            return ReportOut.model_validate(done.response)
    flow_status, flow_detail = "none", None
    if report.flow_run_state is not None:
        change = report.flow_run_state
        try:
            if (
                change.version is not None
                and run.version == change.version + 1
                and run.state == change.state.name
            ):
                flow_status = "duplicate"
            else:
                set_flow_run_state(
                    session,
                    run,
                    change.state.name,
                    now=now,
                    message=change.state.message,
                    serialized=change.state.serialized,
                    timestamp=change.state.timestamp,
                    expected_version=change.version,
                )
                flow_status = "applied"
        except ServerError as exc:
            flow_status = "conflict" if exc.status == 409 else "rejected"
            flow_detail = exc.message
    keys = list(dict.fromkeys((c.task_slug, c.map_index) for c in report.task_runs))
    found = _load_task_runs(session, run.id, keys) if keys else {}
    _create_missing(session, run.id, report.task_runs, found, now)
    history: list[dict[str, Any]] = []
    results = [
        _apply_task_change(session, found[(c.task_slug, c.map_index)], c, now, history)
        for c in report.task_runs
    ]
    if history:
        session.flush()
        session.execute(sa.insert(StateRecord), history)
    task_ids = {key: row.id for key, row in found.items()}
    unknown = list(
        dict.fromkeys(
            (log.task_slug, -1 if log.map_index is None else log.map_index)
            for log in report.logs
            if log.task_slug is not None and log.task_run_id is None
        ).keys()
        - task_ids.keys()
    )
    if unknown:
        task_ids.update(_task_run_ids(session, run.id, unknown))
    logs = insert_logs(session, run.id, report.logs, now, task_ids)
    if report.heartbeat and run.state in ("Submitted", "Running", CANCELLING):
        session.execute(sa.update(FlowRun).where(FlowRun.id == run.id).values(heartbeat=now))
    out = ReportOut(
        flow_run_state=run.state,
        flow_run_version=run.version,
        flow_run_status=flow_status,  # type: ignore[arg-type]
        flow_run_detail=flow_detail,
        cancel_requested=run.state == CANCELLING,
        task_runs=results,
        logs_inserted=logs,
    )
    if report.batch_id:
        session.add(
            ReportBatch(
                batch_id=report.batch_id, flow_run_id=run.id, response=out.model_dump(mode="json")
            )
        )
    return out
