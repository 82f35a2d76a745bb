"""The runner's batched report: many task-run state changes, a flow-run state change, log
records and a heartbeat in one request and one transaction.

Retry safety works at two levels. A batch with a ``batch_id`` that was already applied
returns the stored answer without touching anything. Each task-run change carries the
``version`` it applies to: a change whose version is current is applied (version + 1); one
that was applied already (the row is one version ahead in that very state) is reported
``duplicate``; anything else is a ``conflict``. Task runs that do not exist yet (mapped
children) are created on the fly at version 0. Changes are applied in order, so a batch may
move one task run Pending -> Running -> Success with versions 0, 1, 2. The task-run part is
applied in memory and written in bulk by :class:`~headrace.server.domain.task_batch.TaskRunBatch`.
A final flow-run state in a report is applied after the report's task-run changes: a run
may succeed only once all its task runs have finished (:mod:`headrace.server.domain.invariants`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.core.gc_pause import paused
from headrace.server.db.models import ConcurrencyLimit, FlowRun, Log, ReportBatch, TaskRun
from headrace.server.domain.logs import truncate_message
from headrace.server.domain.states import (
    CANCELLING,
    FINISHED_NAMES,
    cancel_unfinished_task_runs,
    cancelled_why,
    set_flow_run_state,
)
from headrace.server.domain.task_batch import Key, TaskRunBatch, changes_of, task_run_ids
from headrace.server.errors import ConcurrencyLimitError, ServerError
from headrace.wire import LogIn, ReportIn

__all__ = ["apply_report", "check_task_concurrency", "insert_logs"]


def check_task_concurrency(session: Session, tags: list[str]) -> None:
    """Refuse to start one task run whose tag's concurrency limit is already reached
    (the single-change endpoint; batches check in :class:`TaskRunBatch`)."""
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
    max_chars: int = 0,
) -> int:
    """Insert ``logs`` of run ``flow_run_id``; a message over ``max_chars`` characters is
    stored cut, with a marker (:func:`~headrace.server.domain.logs.truncate_message`)."""
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
                "message": truncate_message(log.message, max_chars),
            }
        )
    if rows:
        session.execute(sa.insert(cast(sa.Table, Log.__table__)), rows)
    return len(rows)


def _apply_flow_state(
    session: Session, run: FlowRun, report: ReportIn, now: datetime
) -> tuple[str, str | None, str | None]:
    """Apply the report's flow-run state change; returns its status, why it was not applied
    and the error's code. A final state is applied after the report's task-run changes, so
    it is checked against the task runs as this very report leaves them; any other before
    them (the order the runner saw them in)."""
    change = report.flow_run_state
    if change is None:
        return "none", None, None
    try:
        if (
            change.version is not None
            and run.version == change.version + 1
            and run.state == change.state.name
        ):
            return "duplicate", None, None
        set_flow_run_state(
            session,
            run,
            change.state.name,
            now=now,
            message=change.state.message,
            serialized=change.state.serialized,
            timestamp=change.state.timestamp,
            expected_version=change.version,
            sweep=False,  # the caller does it, after this report's own task-run changes
        )
        return "applied", None, None
    except ServerError as exc:
        return ("conflict" if exc.status == 409 else "rejected"), exc.message, exc.code


BIG_BATCH = 1000


def apply_report(
    session: Session, run: FlowRun, report: ReportIn, now: datetime, max_log_chars: int = 0
) -> dict[str, Any]:
    """Apply one batch for ``run`` (locked by the caller) and say what happened to each part:
    a ``ReportOut`` as JSON-ready data (built as plain dicts: a big map's batch has thousands
    of entries, and the stored copy answers a retried batch)."""
    if report.batch_id:
        done = session.get(ReportBatch, report.batch_id)
        if done is not None and done.flow_run_id == run.id:
            return dict(done.response)
    change = report.flow_run_state
    final = change is not None and change.state.name in FINISHED_NAMES
    flow: tuple[str, str | None, str | None] = ("none", None, None)
    if not final:
        flow = _apply_flow_state(session, run, report, now)
    batch = TaskRunBatch(session, run.id, now)
    echo = report.results == "all"
    results = []
    size = len(report.task_runs) + (len(report.task_states.rows) if report.task_states else 0)
    if size:
        # a big batch allocates tens of thousands of short-lived acyclic objects: the
        # collector's passes over the server's heap cost about a quarter of the batch
        with paused() if size >= BIG_BATCH else contextlib.nullcontext():
            changes = changes_of(report.task_runs, report.task_states)
            batch.load(changes)
            for task_change in changes:
                outcome = batch.apply(task_change, echo)
                if outcome is not None:
                    results.append(outcome)
            batch.write()
    applied = batch.applied
    if final:
        flow = _apply_flow_state(session, run, report, now)
    flow_status, flow_detail, flow_code = flow
    if flow_status == "applied" and run.state == "Cancelled":
        cancel_unfinished_task_runs(session, run.id, now, cancelled_why(run.state_message))
    named = dict.fromkeys(
        (log.task_slug, -1 if log.map_index is None else log.map_index)
        for log in report.logs
        if log.task_slug is not None and log.task_run_id is None
    )
    task_ids: dict[Key, str] = {}
    if named:  # logs naming task runs by slug and index: their ids, from the batch or the db
        known = batch.ids()
        task_ids = {key: known[key] for key in named if key in known}
        unknown = [key for key in named if key not in known]
        if unknown:
            task_ids.update(task_run_ids(session, run.id, unknown))
    logs = insert_logs(session, run.id, report.logs, now, task_ids, max_log_chars)
    if report.heartbeat and run.state in ("Submitted", "Running", CANCELLING):
        session.execute(sa.update(FlowRun).where(FlowRun.id == run.id).values(heartbeat=now))
    out = {
        "flow_run_state": run.state,
        "flow_run_version": run.version,
        "flow_run_status": flow_status,
        "flow_run_detail": flow_detail,
        "flow_run_code": flow_code,
        "flow_run_count": run.run_count,
        "cancel_requested": run.state == CANCELLING,
        "task_runs": results,
        "task_runs_applied": applied,
        "logs_inserted": logs,
    }
    if report.batch_id:
        session.add(ReportBatch(batch_id=report.batch_id, flow_run_id=run.id, response=out))
    return out
