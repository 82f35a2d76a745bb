"""A mapped task's children page: counts by state over all of them, one page of rows.

The page of ``/runs/{id}/tasks/{slug}``: the run and the task's own row, the children
counted by state with one ``GROUP BY`` (every child, whatever the filter), and one page of
them by map index, filtered by state. A task with neither a row of its own nor children is
a 404 naming it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Flow, FlowRun, TaskRun
from headrace.server.domain.auth import Principal
from headrace.server.domain.lookup import get_flow_run
from headrace.server.domain.pages.columns import iso
from headrace.server.domain.pages.runs import run_artifacts
from headrace.server.errors import NotFoundError

__all__ = ["mapped_children"]


def mapped_children(
    session: Session,
    who: Principal,
    flow_run_id: str,
    task_slug: str,
    *,
    states: list[str],
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """A mapped task's children: counts by state (all of them) and one page of rows."""
    get_flow_run(session, flow_run_id, who)
    run = session.execute(
        sa.select(FlowRun.name, FlowRun.state, Flow.name.label("flow_name"))
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(FlowRun.id == flow_run_id)
    ).one()
    parent = session.execute(
        sa.select(TaskRun.task_name, TaskRun.state, TaskRun.state_message).where(
            TaskRun.flow_run_id == flow_run_id,
            TaskRun.task_slug == task_slug,
            TaskRun.map_index == -1,
        )
    ).first()
    base = [TaskRun.flow_run_id == flow_run_id, TaskRun.task_slug == task_slug]
    counts = {
        s: int(n)
        for s, n in session.execute(
            sa.select(TaskRun.state, sa.func.count())
            .where(*base, TaskRun.map_index >= 0)
            .group_by(TaskRun.state)
        )
    }
    if parent is None and not counts:
        raise NotFoundError(f"task {task_slug!r} not found in flow run {flow_run_id}")
    where = [*base, TaskRun.map_index >= 0]
    if states:
        where.append(TaskRun.state.in_(states))
    total = session.scalar(sa.select(sa.func.count()).select_from(TaskRun).where(*where))
    rows = session.execute(
        sa.select(
            TaskRun.id,
            TaskRun.map_index,
            TaskRun.state,
            TaskRun.state_message,
            TaskRun.state_timestamp,
        )
        .where(*where)
        .order_by(TaskRun.map_index)
        .limit(limit)
        .offset(offset)
    )
    return {
        "flow_run": {
            "id": flow_run_id,
            "name": run.name,
            "state": run.state,
            "flow_name": run.flow_name,
        },
        "task": {
            "slug": task_slug,
            "name": parent.task_name if parent else task_slug,
            "state": parent.state if parent else None,
            "state_message": parent.state_message if parent else None,
        },
        "counts": counts,
        "artifacts": run_artifacts(session, flow_run_id, task_slug),
        "total": int(total or 0),
        "limit": limit,
        "offset": offset,
        "children": [
            {
                "id": r.id,
                "map_index": r.map_index,
                "state": r.state,
                "state_message": r.state_message,
                "state_timestamp": iso(r.state_timestamp),
            }
            for r in rows
        ],
    }
