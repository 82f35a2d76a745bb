"""Everything known about one task run, read from its state history: its attempts (each
with start, end, final state, message and error), the history with each state's duration,
the error that failed it, its upstream and downstream task runs, and where its result was
checkpointed. The API's ``/task_runs/{id}/attempts``, the UI's task-run page and
``headrace describe`` all read it from here.

The error and the result location come from the runner's ``serialized`` form of a state
(``{"error": {"type", "message", "traceback"}, "result": {"location", ...}}``); the server
only reads these keys, never imports anything they name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Flow, FlowRun, Log, TaskRun, utcnow
from headrace.server.domain.auth import Principal
from headrace.server.domain.history import HistoryRecord, task_run_history
from headrace.server.domain.lookup import get_task_run
from headrace.wire.names import FAILED_STATE_NAMES

__all__ = [
    "attempts_of",
    "error_of",
    "failed_task_runs",
    "first_task_failures",
    "task_run_detail",
]

FAILED = tuple(sorted(FAILED_STATE_NAMES))
_ENDS_ATTEMPT = frozenset(
    {
        *FAILED,
        "Success",
        "Cached",
        "Mapped",
        "Skipped",
        "Cancelled",
        "Retrying",
        "Paused",
        "Pending",
    }
)
LOG_LIMIT = 500


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def error_of(serialized: Any) -> dict[str, str] | None:
    """The error a state's serialized form carries, if any."""
    if isinstance(serialized, dict) and isinstance(serialized.get("error"), dict):
        error = serialized["error"]
        return {k: str(error.get(k) or "") for k in ("type", "message", "traceback")}
    return None


def attempts_of(history: Sequence[HistoryRecord]) -> list[dict[str, Any]]:
    """One entry per ``Running`` in ``history`` (oldest first): when it started, when and how
    it ended (the next state that was not ``Running``; None while it runs), its message and
    the error that ended it."""
    attempts: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for record in history:
        if record.name == "Running":
            if current is None:
                current = {
                    "attempt": len(attempts) + 1,
                    "start": _iso(record.timestamp),
                    "end": None,
                    "state": "Running",
                    "message": record.message,
                    "error": None,
                }
                attempts.append(current)
            continue
        if current is not None and record.name in _ENDS_ATTEMPT:
            current.update(
                end=_iso(record.timestamp),
                state=record.name,
                message=record.message,
                error=error_of(record.serialized),
            )
            current = None
    return attempts


def _history(rows: Sequence[HistoryRecord], end: datetime | None) -> list[dict[str, Any]]:
    """Each state with how long it lasted (the last one: until ``end``, None when final)."""
    out = []
    for i, r in enumerate(rows):
        following = rows[i + 1].timestamp if i + 1 < len(rows) else end
        duration = (following - r.timestamp).total_seconds() if following is not None else None
        out.append(
            {
                "name": r.name,
                "message": r.message,
                "timestamp": _iso(r.timestamp),
                "duration": duration,
                "error": error_of(r.serialized),
            }
        )
    return out


def _neighbours(
    session: Session, row: TaskRun, document: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The task runs whose tasks feed this one and those it feeds (a mapped edge pairs a
    child with the same child index of the other side, when there is one)."""
    ups: dict[str, bool] = {}
    downs: dict[str, bool] = {}
    for edge in document.get("edges") or []:
        if edge.get("downstream") == row.task_slug and edge.get("upstream"):
            ups[edge["upstream"]] = ups.get(edge["upstream"], False) or bool(edge.get("mapped"))
        if edge.get("upstream") == row.task_slug and edge.get("downstream"):
            downs[edge["downstream"]] = downs.get(edge["downstream"], False) or bool(
                edge.get("mapped")
            )

    def find(slugs: dict[str, bool]) -> list[dict[str, Any]]:
        if not slugs:
            return []
        rows = session.execute(
            sa.select(
                TaskRun.id,
                TaskRun.task_slug,
                TaskRun.task_name,
                TaskRun.map_index,
                TaskRun.state,
                TaskRun.state_message,
            )
            .where(
                TaskRun.flow_run_id == row.flow_run_id,
                TaskRun.task_slug.in_(list(slugs)),
                TaskRun.map_index.in_({-1, row.map_index}),
            )
            .order_by(TaskRun.task_slug, TaskRun.map_index)
        )
        best: dict[str, dict[str, Any]] = {}
        for r in rows:
            # A mapped child's own counterpart wins over its parent.
            if r.task_slug in best and r.map_index == -1:
                continue
            best[r.task_slug] = {
                "id": r.id,
                "task_slug": r.task_slug,
                "task_name": r.task_name,
                "map_index": r.map_index,
                "state": r.state,
                "state_message": r.state_message,
            }
        return [best[s] for s in sorted(best)]

    return find(ups), find(downs)


def task_run_detail(session: Session, who: Principal, task_run_id: str) -> dict[str, Any]:
    """One task run as its page shows it (see the module's docstring)."""
    row = get_task_run(session, task_run_id, who)
    run = session.execute(
        sa.select(
            FlowRun.id, FlowRun.name, FlowRun.state, FlowRun.flow_id, Flow.name, Flow.document
        )
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(FlowRun.id == row.flow_run_id)
    ).one()
    history = task_run_history(session, row)
    finished = row.state in (*FAILED, "Success", "Cached", "Mapped", "Skipped", "Cancelled")
    end = None if finished else utcnow()
    upstream, downstream = _neighbours(session, row, run.document or {})
    logs = session.scalars(
        sa.select(Log)
        .where(
            Log.flow_run_id == row.flow_run_id,
            sa.or_(
                Log.task_run_id == task_run_id,
                sa.and_(
                    Log.task_run_id.is_(None),
                    Log.task_slug == row.task_slug,
                    Log.map_index == row.map_index,
                ),
            ),
        )
        .order_by(Log.id)
        .limit(LOG_LIMIT)
    )
    serialized = row.state_serialized if isinstance(row.state_serialized, dict) else {}
    result = serialized.get("result") if isinstance(serialized.get("result"), dict) else None
    children: dict[str, int] = {}
    if row.map_index == -1:
        for state, n in session.execute(
            sa.select(TaskRun.state, sa.func.count())
            .where(
                TaskRun.flow_run_id == row.flow_run_id,
                TaskRun.task_slug == row.task_slug,
                TaskRun.map_index >= 0,
            )
            .group_by(TaskRun.state)
        ):
            children[state] = int(n)
    return {
        "task_run": {
            "id": row.id,
            "task_slug": row.task_slug,
            "task_name": row.task_name,
            "map_index": row.map_index,
            "tags": list(row.tags or []),
            "state": row.state,
            "state_message": row.state_message,
            "state_timestamp": _iso(row.state_timestamp),
            "error": error_of(serialized),
            "result_location": str(result["location"]) if result and "location" in result else None,
            "result_type": str(result.get("type")) if result else None,
            "children": children,
        },
        "flow_run": {
            "id": run[0],
            "name": run[1],
            "state": run[2],
            "flow_id": run[3],
            "flow_name": run[4],
        },
        "history": _history(history, end),
        "attempts": attempts_of(history),
        "upstream": upstream,
        "downstream": downstream,
        "logs": [
            {
                "id": log.id,
                "timestamp": _iso(log.timestamp),
                "level": log.level,
                "name": log.name,
                "message": log.message,
            }
            for log in logs
        ],
    }


def failed_task_runs(session: Session, flow_run_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The failed task runs of a run that failed because of them: each with its message and
    error, parents and children alike, oldest failure first (what failed first is usually
    why). ``TriggerFailed`` ones (failed because something upstream did) come last."""
    rows = session.execute(
        sa.select(
            TaskRun.id,
            TaskRun.task_slug,
            TaskRun.task_name,
            TaskRun.map_index,
            TaskRun.state,
            TaskRun.state_message,
            TaskRun.state_serialized,
            TaskRun.state_timestamp,
        )
        .where(TaskRun.flow_run_id == flow_run_id, TaskRun.state.in_(FAILED))
        .order_by(
            sa.case((TaskRun.state == "TriggerFailed", 1), else_=0),
            TaskRun.state_timestamp,
            TaskRun.task_slug,
            TaskRun.map_index,
        )
        .limit(limit)
    )
    return [
        {
            "id": r.id,
            "task_slug": r.task_slug,
            "task_name": r.task_name,
            "map_index": r.map_index,
            "state": r.state,
            "state_message": r.state_message,
            "state_timestamp": _iso(r.state_timestamp),
            "error": error_of(r.state_serialized),
        }
        for r in rows
    ]


def first_task_failures(session: Session, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """For each run, its earliest failed task run (the "why" behind a run's failure)."""
    if not run_ids:
        return {}
    ranked = (
        sa.select(
            TaskRun.flow_run_id,
            TaskRun.id,
            TaskRun.task_slug,
            TaskRun.task_name,
            TaskRun.map_index,
            TaskRun.state,
            TaskRun.state_message,
            sa.func.row_number()
            .over(
                partition_by=TaskRun.flow_run_id,
                order_by=(TaskRun.state_timestamp, TaskRun.map_index),
            )
            .label("rank"),
        )
        .where(TaskRun.flow_run_id.in_(run_ids), TaskRun.state.in_(list(FAILED)))
        .subquery()
    )
    rows = session.execute(sa.select(ranked).where(ranked.c.rank == 1))
    return {
        r.flow_run_id: {
            "id": r.id,
            "task_slug": r.task_slug,
            "task_name": r.task_name,
            "map_index": r.map_index,
            "state": r.state,
            "message": r.state_message,
        }
        for r in rows
    }
