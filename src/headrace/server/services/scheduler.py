"""The scheduler: creates runs from each active flow's schedule, ahead of time.

For every flow group with ``schedule_active`` whose current (unarchived) version has a
schedule, it keeps up to ``server.schedule_max_runs`` future ``Scheduled`` runs within
``server.schedule_horizon`` seconds. Each run's idempotency key is ``auto:<ISO time>``
(followed by a digest of the clock's parameters and labels when it has any), unique per flow
group in the database, so a scheduled event yields at most one run even when the step runs
twice or in two processes at once. A run takes its clock's ``parameter_defaults`` as its
parameters and its clock's ``labels`` (when the clock has labels) in place of the flow's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from headrace.schedules import schedule_from_dict
from headrace.server.db.database import Database
from headrace.server.db.models import Flow, FlowGroup, FlowRun, utcnow
from headrace.server.domain.schedule_runs import create_event_run
from headrace.server.settings import ServerSettings
from headrace.utilities.logging import get_logger

logger = get_logger("server.scheduler")

__all__ = ["schedule_flow_runs"]


def _flows_with_schedules(db: Database) -> list[str]:
    with db.session(write=False) as s:
        return list(
            s.scalars(
                sa.select(Flow.id)
                .join(FlowGroup, FlowGroup.id == Flow.flow_group_id)
                .where(
                    Flow.archived.is_(False),
                    Flow.schedule.is_not(None),
                    FlowGroup.schedule_active.is_(True),
                )
            )
        )


def _schedule_one(db: Database, settings: ServerSettings, flow_id: str, now: datetime) -> int:
    with db.session() as s:
        flow = s.get(Flow, flow_id)
        if flow is None or flow.archived or not flow.schedule:
            return 0
        auto = sa.and_(FlowRun.flow_group_id == flow.flow_group_id, FlowRun.auto_scheduled)
        pending = (
            s.scalar(
                sa.select(sa.func.count()).where(
                    auto, FlowRun.state == "Scheduled", FlowRun.scheduled_start > now
                )
            )
            or 0
        )
        room = settings.schedule_max_runs - int(pending)
        if room <= 0:
            return 0
        last = s.scalar(sa.select(sa.func.max(FlowRun.scheduled_start)).where(auto))
        # From just before the last run's time: another clock's event at that same time
        # (other parameters) may still be missing; the ones made already come back as is.
        after = max(now, last - timedelta(microseconds=1)) if last is not None else now
        horizon = now + timedelta(seconds=settings.schedule_horizon)
        events = [
            e
            for e in schedule_from_dict(flow.schedule).next(room, after, return_events=True)
            if e.start_time <= horizon
        ]
        created = 0
        for event in events:
            _, new = create_event_run(
                s, flow, event, now=now, max_retries=settings.flow_run_max_retries
            )
            created += new
        return created


def schedule_flow_runs(db: Database, settings: ServerSettings, now: datetime | None = None) -> int:
    """One scheduler pass over every scheduled flow; returns how many runs it created."""
    now = now or utcnow()
    created = 0
    for flow_id in _flows_with_schedules(db):
        try:
            created += _schedule_one(db, settings, flow_id, now)
        except Exception:
            logger.exception("scheduling flow %s failed", flow_id)
    return created
