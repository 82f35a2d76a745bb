"""The dashboard's data in one read transaction: runs by state over a window (totals and
per hour), recent failures with their messages, upcoming and late runs, agents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Agent, Flow, FlowRun
from headrace.server.domain.auth import Principal
from headrace.server.domain.pages.columns import (
    FAILED_NAMES,
    hour_bucket,
    iso,
    run_columns,
    run_row,
)
from headrace.server.domain.task_detail import first_task_failures

__all__ = ["dashboard"]

LIST_LIMIT = 10
NOT_STARTED = ("Scheduled", "Pending", "Submitted")


def _runs(session: Session, who: Principal, *where: Any, order: Any, limit: int) -> list[Any]:
    q = (
        sa.select(*run_columns())
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(who.scope(FlowRun.project_id), *where)
        .order_by(order, FlowRun.id)
        .limit(limit)
    )
    return [run_row(r) for r in session.execute(q)]


def dashboard(
    session: Session, who: Principal, now: datetime, hours: int, late_after: float
) -> dict[str, Any]:
    """Everything the dashboard shows; each list is bounded, each count is a GROUP BY."""
    since = now - timedelta(hours=hours)
    in_window = sa.and_(
        who.scope(FlowRun.project_id),
        FlowRun.scheduled_start >= since,
        FlowRun.scheduled_start <= now,
    )
    by_state = {
        state: int(n)
        for state, n in session.execute(
            sa.select(FlowRun.state, sa.func.count()).where(in_window).group_by(FlowRun.state)
        )
    }
    bucket = hour_bucket(session, FlowRun.scheduled_start).label("hour")
    by_hour: dict[str, dict[str, int]] = {}
    for hour, state, n in session.execute(
        sa.select(bucket, FlowRun.state, sa.func.count())
        .where(in_window)
        .group_by(bucket, FlowRun.state)
    ):
        by_hour.setdefault(str(hour), {})[state] = int(n)
    hours_axis = [(since + timedelta(hours=i)).strftime("%Y-%m-%dT%H") for i in range(hours + 1)]
    failures = _runs(
        session,
        who,
        FlowRun.state.in_(sorted(FAILED_NAMES)),
        FlowRun.state_timestamp >= since,
        order=FlowRun.state_timestamp.desc(),
        limit=LIST_LIMIT * 2,
    )
    causes = first_task_failures(session, [r["id"] for r in failures])
    for run in failures:
        run["task_failure"] = causes.get(run["id"])
    upcoming = _runs(
        session,
        who,
        FlowRun.state.in_(NOT_STARTED),
        FlowRun.scheduled_start > now,
        order=FlowRun.scheduled_start,
        limit=LIST_LIMIT,
    )
    late = _runs(
        session,
        who,
        FlowRun.state.in_(NOT_STARTED),
        sa.or_(
            FlowRun.is_late.is_(True),
            FlowRun.scheduled_start < now - timedelta(seconds=late_after),
        ),
        order=FlowRun.scheduled_start,
        limit=LIST_LIMIT,
    )
    running = session.scalar(
        sa.select(sa.func.count())
        .select_from(FlowRun)
        .where(who.scope(FlowRun.project_id), FlowRun.state.in_(("Running", "Cancelling")))
    )
    flows = session.scalar(
        sa.select(sa.func.count())
        .select_from(Flow)
        .where(who.scope(Flow.project_id), Flow.archived.is_(False))
    )
    agents = [
        {
            "id": a.id,
            "name": a.name,
            "type": a.type,
            "labels": list(a.labels or []),
            "last_seen": iso(a.last_seen),
            "seconds_ago": max(0.0, (now - a.last_seen).total_seconds()),
        }
        for a in session.scalars(sa.select(Agent).order_by(Agent.last_seen.desc()).limit(500))
        if who.owns_agent(a.project_ids)  # a project-scoped key sees only its own agents
    ][:50]
    return {
        "now": iso(now),
        "hours": hours,
        "by_state": by_state,
        "by_hour": [{"hour": h, "states": by_hour.get(h, {})} for h in hours_axis],
        "failures": failures,
        "upcoming": upcoming,
        "late": late,
        "running": int(running or 0),
        "flows": int(flows or 0),
        "agents": agents,
    }
