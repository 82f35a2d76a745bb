"""Backfills: the runs a flow's schedule would have created in a window, made now.

Airflow and Dagster users expect this; Prefect 1 had no peer. A backfill takes the current
version of a flow, every event its schedule (clocks, filters, adjustments, per-clock
parameters and labels) has from ``start`` to ``end`` inclusive, and creates one run per
event with the same idempotency key the scheduler gives that event (``auto:<time>...``), so
asking twice, or for a window the scheduler already covered, never makes a second run of an
event. ``max_concurrent`` caps how many of the backfill's runs are active at once: agents
claim its runs oldest first and skip them while the cap is reached (see ``claim.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.schedules import ScheduleError, schedule_from_dict
from headrace.server.db.models import Backfill, Flow, FlowRun
from headrace.server.domain.schedule_runs import create_event_run
from headrace.server.errors import InvalidInputError, NotFoundError

__all__ = ["MAX_BACKFILL_RUNS", "BackfillResult", "backfill_flow", "current_flow"]

# One request creates at most this many runs; a longer window is an error naming the count.
MAX_BACKFILL_RUNS = 5_000


@dataclass(frozen=True)
class BackfillResult:
    backfill: Backfill
    created: list[FlowRun]
    existing: list[FlowRun]


def current_flow(session: Session, flow_group_id: str) -> Flow:
    """The unarchived (current) version of a flow group."""
    flow = session.scalar(
        sa.select(Flow).where(Flow.flow_group_id == flow_group_id, Flow.archived.is_(False))
    )
    if flow is None:
        raise NotFoundError(f"flow group {flow_group_id} has no current version", field="flow_id")
    return flow


def backfill_flow(
    session: Session,
    flow: Flow,
    *,
    start: datetime,
    end: datetime,
    max_concurrent: int | None,
    now: datetime,
    max_retries: int,
) -> BackfillResult:
    """Create (once each) the runs ``flow``'s schedule has from ``start`` to ``end``."""
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    if end < start:
        raise InvalidInputError(
            f"end: {end.isoformat()} is before start {start.isoformat()}", field="end"
        )
    if not flow.schedule:
        raise InvalidInputError(
            f"flow {flow.name!r} has no schedule, so there is nothing to backfill",
            field="flow_id",
        )
    try:
        events = schedule_from_dict(flow.schedule).events_between(start, end)
    except ScheduleError as exc:
        raise InvalidInputError(f"flow {flow.name!r}: {exc}", field="flow_id") from None
    if len(events) > MAX_BACKFILL_RUNS:
        raise InvalidInputError(
            f"the window holds {len(events)} scheduled runs of {flow.name!r}, more than "
            f"{MAX_BACKFILL_RUNS} at once; split it",
            field="end",
        )
    backfill = Backfill(
        flow_group_id=flow.flow_group_id,
        flow_id=flow.id,
        start=start,
        end=end,
        max_concurrent=max_concurrent,
        created=now,
    )
    session.add(backfill)
    session.flush()
    created: list[FlowRun] = []
    existing: list[FlowRun] = []
    for event in events:
        run, new = create_event_run(
            session,
            flow,
            event,
            now=now,
            max_retries=max_retries,
            auto_scheduled=False,
            backfill_id=backfill.id,
        )
        (created if new else existing).append(run)
    return BackfillResult(backfill, created, existing)
