"""The flows pages' data: the list (latest version of each flow with its latest run) and one
flow's page (graph, versions, schedule, parameters as Run form fields, recent runs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Flow, FlowGroup, FlowRun, Project
from headrace.server.domain.auth import Principal
from headrace.server.domain.lookup import get_flow
from headrace.server.domain.pages.columns import iso, run_columns, run_row
from headrace.server.domain.pages.graph import flow_graph, parameter_fields

__all__ = ["flow_page", "flows_list"]

RECENT_RUNS = 15


def flows_list(session: Session, who: Principal, now: datetime) -> dict[str, Any]:
    """Every flow's latest version with its project, run count and latest run's state."""
    ranked = (
        sa.select(
            FlowRun.flow_group_id,
            FlowRun.id,
            FlowRun.state,
            FlowRun.state_timestamp,
            sa.func.row_number()
            .over(
                partition_by=FlowRun.flow_group_id,
                order_by=(FlowRun.scheduled_start.desc(), FlowRun.id.desc()),
            )
            .label("rank"),
        )
        .where(who.scope(FlowRun.project_id), FlowRun.scheduled_start <= now)
        .subquery()
    )
    latest = sa.select(ranked).where(ranked.c.rank == 1).subquery()
    counts = (
        sa.select(FlowRun.flow_group_id, sa.func.count().label("runs"))
        .where(who.scope(FlowRun.project_id))
        .group_by(FlowRun.flow_group_id)
        .subquery()
    )
    q = (
        sa.select(
            Flow.id,
            Flow.name,
            Flow.version,
            Flow.flow_group_id,
            Flow.labels,
            Flow.schedule,
            Flow.created,
            Project.name.label("project"),
            FlowGroup.schedule_active,
            latest.c.id.label("run_id"),
            latest.c.state.label("run_state"),
            latest.c.state_timestamp.label("run_time"),
            counts.c.runs,
        )
        .join(Project, Project.id == Flow.project_id)
        .join(FlowGroup, FlowGroup.id == Flow.flow_group_id)
        .outerjoin(latest, latest.c.flow_group_id == Flow.flow_group_id)
        .outerjoin(counts, counts.c.flow_group_id == Flow.flow_group_id)
        .where(who.scope(Flow.project_id), Flow.archived.is_(False))
        .order_by(Project.name, Flow.name)
        .limit(1000)
    )
    flows = [
        {
            "id": r.id,
            "name": r.name,
            "version": r.version,
            "flow_group_id": r.flow_group_id,
            "project": r.project,
            "labels": list(r.labels or []),
            "scheduled": r.schedule is not None,
            "schedule_active": bool(r.schedule_active),
            "registered": iso(r.created),
            "runs": int(r.runs or 0),
            "latest_run": None
            if r.run_id is None
            else {"id": r.run_id, "state": r.run_state, "state_timestamp": iso(r.run_time)},
        }
        for r in session.execute(q)
    ]
    return {"now": iso(now), "flows": flows}


def flow_page(session: Session, who: Principal, flow_id: str, now: datetime) -> dict[str, Any]:
    """One flow version with its graph, versions, schedule, Run form fields and runs."""
    flow = get_flow(session, flow_id, who)
    group = session.get(FlowGroup, flow.flow_group_id)
    project = session.get(Project, flow.project_id)
    versions = [
        {"id": v.id, "version": v.version, "archived": v.archived, "created": iso(v.created)}
        for v in session.execute(
            sa.select(Flow.id, Flow.version, Flow.archived, Flow.created)
            .where(Flow.flow_group_id == flow.flow_group_id)
            .order_by(Flow.version.desc())
            .limit(100)
        )
    ]
    base = sa.select(*run_columns()).join(Flow, Flow.id == FlowRun.flow_id)
    recent = [
        run_row(r)
        for r in session.execute(
            base.where(FlowRun.flow_group_id == flow.flow_group_id, FlowRun.scheduled_start <= now)
            .order_by(FlowRun.scheduled_start.desc(), FlowRun.id)
            .limit(RECENT_RUNS)
        )
    ]
    upcoming = [
        {**run_row(r), "parameters": r.parameters or {}}
        for r in session.execute(
            sa.select(*run_columns(), FlowRun.parameters)
            .join(Flow, Flow.id == FlowRun.flow_id)
            .where(
                FlowRun.flow_group_id == flow.flow_group_id,
                FlowRun.scheduled_start > now,
                FlowRun.state == "Scheduled",
            )
            .order_by(FlowRun.scheduled_start, FlowRun.id)
            .limit(5)
        )
    ]
    by_state = {
        s: int(n)
        for s, n in session.execute(
            sa.select(FlowRun.state, sa.func.count())
            .where(FlowRun.flow_group_id == flow.flow_group_id)
            .group_by(FlowRun.state)
        )
    }
    document = flow.document or {}
    return {
        "now": iso(now),
        "flow": {
            "id": flow.id,
            "name": flow.name,
            "version": flow.version,
            "flow_group_id": flow.flow_group_id,
            "project": project.name if project else None,
            "labels": list(flow.labels or []),
            "archived": flow.archived,
            "registered": iso(flow.created),
            "environment": (document.get("environment") or {}).get("type"),
            "storage": (document.get("storage") or {}).get("type"),
        },
        "schedule": flow.schedule,
        "schedule_active": bool(group.schedule_active) if group else False,
        "graph": flow_graph(document),
        "parameters": parameter_fields(document),
        "versions": versions,
        "runs_by_state": by_state,
        "recent_runs": recent,
        "upcoming_runs": upcoming,
    }
