"""The flow-run pages' data: the filtered list and one run's page (a mapped task's children
are :mod:`.children`).

A run's page stays small however many mapped children it has: task runs are read as one row
per task plus a ``GROUP BY (task, state)`` count of children, the Gantt bars as one
``GROUP BY task`` over the state history, and logs incrementally (``logs_after`` an id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import (
    Artifact,
    Flow,
    FlowGroup,
    FlowRun,
    FlowRunLabel,
    Log,
    TaskRun,
)
from headrace.server.domain.auth import Principal
from headrace.server.domain.listing import escape_like
from headrace.server.domain.lookup import get_flow_run
from headrace.server.domain.pages.columns import FAILED_NAMES, iso, run_columns, run_row
from headrace.server.domain.pages.graph import flow_graph
from headrace.server.domain.task_detail import error_of, failed_task_runs, first_task_failures

__all__ = ["run_artifacts", "run_links", "run_page", "runs_list"]

LOG_TAIL = 300
LOG_PAGE = 1000


def runs_list(
    session: Session,
    who: Principal,
    *,
    states: list[str],
    flow_group_id: str | None,
    label: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
    search: str | None = None,
) -> dict[str, Any]:
    """A page of runs matching the filters (``search``: a substring of the run's or the
    flow's name, any case), the total, and the flows to filter by."""
    where: list[Any] = [who.scope(FlowRun.project_id)]
    if search:
        pattern = f"%{escape_like(search)}%"
        names = sa.select(Flow.id).where(Flow.name.ilike(pattern, escape="\\"))
        where.append(sa.or_(FlowRun.name.ilike(pattern, escape="\\"), FlowRun.flow_id.in_(names)))
    if states:
        where.append(FlowRun.state.in_(states))
    if flow_group_id:
        where.append(FlowRun.flow_group_id == flow_group_id)
    if label:
        where.append(
            sa.exists().where(FlowRunLabel.flow_run_id == FlowRun.id, FlowRunLabel.label == label)
        )
    if since is not None:
        where.append(FlowRun.scheduled_start >= since)
    if until is not None:
        where.append(FlowRun.scheduled_start <= until)
    total = session.scalar(sa.select(sa.func.count()).select_from(FlowRun).where(*where))
    rows = session.execute(
        sa.select(*run_columns())
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(*where)
        .order_by(FlowRun.scheduled_start.desc(), FlowRun.id)
        .limit(limit)
        .offset(offset)
    )
    groups = session.execute(
        sa.select(FlowGroup.id, FlowGroup.name)
        .where(who.scope(FlowGroup.project_id))
        .order_by(FlowGroup.name)
        .limit(1000)
    )
    runs = [run_row(r) for r in rows]
    causes = first_task_failures(session, [r["id"] for r in runs if r["state"] in FAILED_NAMES])
    for run in runs:
        run["task_failure"] = causes.get(run["id"])
    return {
        "total": int(total or 0),
        "limit": limit,
        "offset": offset,
        "runs": runs,
        "flows": [{"id": g.id, "name": g.name} for g in groups],
    }


def _timeline(session: Session, flow_run_id: str) -> dict[str, dict[str, Any]]:
    """Per task: first Running and last state change over the task and all its children
    (from the task runs' own columns: a plain mapped child has no history rows)."""
    rows = session.execute(
        sa.select(
            TaskRun.task_slug,
            sa.func.min(TaskRun.start_time),
            sa.func.max(TaskRun.state_timestamp),
        )
        .where(TaskRun.flow_run_id == flow_run_id, TaskRun.version > 0)
        .group_by(TaskRun.task_slug)
    )
    return {slug: {"start": iso(start), "end": iso(end)} for slug, start, end in rows}


def _logs(
    session: Session, flow_run_id: str, after: int | None, level: int, search: str | None
) -> list[dict[str, Any]]:
    q = sa.select(Log).where(Log.flow_run_id == flow_run_id, Log.level >= level)
    if search:
        q = q.where(Log.message.ilike(f"%{escape_like(search)}%", escape="\\"))
    if after is None:  # the tail: newest LOG_TAIL, shown oldest first
        rows = list(session.scalars(q.order_by(Log.id.desc()).limit(LOG_TAIL)))[::-1]
    else:
        rows = list(session.scalars(q.where(Log.id > after).order_by(Log.id).limit(LOG_PAGE)))
    return [
        {
            "id": r.id,
            "timestamp": iso(r.timestamp),
            "level": r.level,
            "name": r.name,
            "task_slug": r.task_slug,
            "map_index": r.map_index,
            "message": r.message,
        }
        for r in rows
    ]


def _run_error(session: Session, flow_run_id: str) -> dict[str, str] | None:
    """The error a failed flow run carries itself (its flow could not load, say)."""
    serialized = session.scalar(
        sa.select(FlowRun.state_serialized).where(FlowRun.id == flow_run_id)
    )
    return error_of(serialized)


def run_page(
    session: Session,
    who: Principal,
    flow_run_id: str,
    now: datetime,
    *,
    logs_after: int | None = None,
    log_level: int = 0,
    log_search: str | None = None,
) -> dict[str, Any]:
    """One run: its fields, graph with per-task state and child counts, Gantt, logs."""
    get_flow_run(session, flow_run_id, who)
    run = session.execute(
        sa.select(*run_columns(), FlowRun.parameters, FlowRun.agent_id, FlowRun.heartbeat)
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(FlowRun.id == flow_run_id)
    ).one()
    document = session.scalar(sa.select(Flow.document).where(Flow.id == run.flow_id)) or {}
    graph = flow_graph(document)
    parents = {
        r.task_slug: r
        for r in session.execute(
            sa.select(
                TaskRun.id,
                TaskRun.task_slug,
                TaskRun.state,
                TaskRun.state_message,
                TaskRun.state_timestamp,
            ).where(TaskRun.flow_run_id == flow_run_id, TaskRun.map_index == -1)
        )
    }
    children: dict[str, dict[str, int]] = {}
    for slug, state, n in session.execute(
        sa.select(TaskRun.task_slug, TaskRun.state, sa.func.count())
        .where(TaskRun.flow_run_id == flow_run_id, TaskRun.map_index >= 0)
        .group_by(TaskRun.task_slug, TaskRun.state)
    ):
        children.setdefault(slug, {})[state] = int(n)
    timeline = _timeline(session, flow_run_id)
    for node in graph["nodes"]:
        parent = parents.get(node["slug"])
        node["task_run_id"] = parent.id if parent else None
        node["state"] = parent.state if parent else None
        node["state_message"] = parent.state_message if parent else None
        node["children"] = children.get(node["slug"], {})
        node["child_count"] = sum(node["children"].values())
        node["start"] = timeline.get(node["slug"], {}).get("start")
        node["end"] = timeline.get(node["slug"], {}).get("end")
        if node["child_count"]:
            node["mapped"] = True
    out = run_row(run)
    out.update(
        parameters=run.parameters or {},
        agent_id=run.agent_id,
        heartbeat=iso(run.heartbeat),
    )
    task_counts: dict[str, int] = {}
    for counts in children.values():
        for state, n in counts.items():
            task_counts[state] = task_counts.get(state, 0) + n
    for parent in parents.values():
        if parent.task_slug not in children:
            task_counts[parent.state] = task_counts.get(parent.state, 0) + 1
    links = run_links(session, flow_run_id)
    artifacts = run_artifacts(session, flow_run_id)
    logs = _logs(session, flow_run_id, logs_after, log_level, log_search)
    cursor = logs[-1]["id"] if logs else logs_after
    if cursor is None:
        cursor = 0
    return {
        "now": iso(now),
        "run": out,
        "graph": graph,
        "task_counts": task_counts,
        "failures": failed_task_runs(session, flow_run_id) if run.state in FAILED_NAMES else [],
        "run_error": _run_error(session, flow_run_id) if run.state in FAILED_NAMES else None,
        "parent": links["parent"],
        "child_runs": links["children"],
        "artifacts": artifacts,
        "logs": logs,
        "log_cursor": cursor,
        "logs_reset": logs_after is None,
    }


def run_artifacts(
    session: Session, flow_run_id: str, task_slug: str | None = None
) -> list[dict[str, Any]]:
    """A run's artifacts (of one task's runs when ``task_slug`` is given), oldest first,
    each with the task slug, name and map index that made it."""
    query = (
        sa.select(
            Artifact.id,
            Artifact.kind,
            Artifact.data,
            Artifact.created,
            TaskRun.task_slug,
            TaskRun.task_name,
            TaskRun.map_index,
        )
        .select_from(Artifact)
        .outerjoin(TaskRun, TaskRun.id == Artifact.task_run_id)
        .where(Artifact.flow_run_id == flow_run_id)
        .order_by(Artifact.created, Artifact.id)
        .limit(200)
    )
    if task_slug is not None:
        query = query.where(TaskRun.task_slug == task_slug)
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "data": r.data,
            "created": iso(r.created),
            "task_slug": r.task_slug,
            "task_name": r.task_name,
            "map_index": r.map_index,
        }
        for r in session.execute(query)
    ]


def run_links(session: Session, flow_run_id: str) -> dict[str, Any]:
    """Flows of flows: the parent run and task run that started this run (or None), and the
    runs this run's tasks started, each with the task that started it."""
    parent = None
    parent_id = session.scalar(
        sa.select(FlowRun.parent_task_run_id).where(FlowRun.id == flow_run_id)
    )
    if parent_id is not None:
        row = session.execute(
            sa.select(
                TaskRun.id,
                TaskRun.task_name,
                TaskRun.map_index,
                FlowRun.id.label("run_id"),
                FlowRun.name,
                FlowRun.state,
            )
            .select_from(TaskRun)
            .join(FlowRun, FlowRun.id == TaskRun.flow_run_id)
            .where(TaskRun.id == parent_id)
        ).first()
        if row is not None:
            parent = {
                "flow_run_id": row.run_id,
                "flow_run_name": row.name,
                "state": row.state,
                "task_run_id": row.id,
                "task_name": row.task_name,
                "map_index": row.map_index,
            }
    children = [
        {
            "id": r.id,
            "name": r.name,
            "state": r.state,
            "task_run_id": r.task_run_id,
            "task_name": r.task_name,
            "map_index": r.map_index,
        }
        for r in session.execute(
            sa.select(
                FlowRun.id,
                FlowRun.name,
                FlowRun.state,
                TaskRun.id.label("task_run_id"),
                TaskRun.task_name,
                TaskRun.map_index,
            )
            .select_from(FlowRun)
            .join(TaskRun, TaskRun.id == FlowRun.parent_task_run_id)
            .where(TaskRun.flow_run_id == flow_run_id)
            .order_by(FlowRun.created, FlowRun.id)
            .limit(500)
        )
    ]
    return {"parent": parent, "children": children}
