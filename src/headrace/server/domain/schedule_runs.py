"""The runs a schedule stands for: one run per schedule event, found again by its key.

A run made from a schedule event carries the idempotency key ``auto:<ISO time>`` (followed
by a digest of the clock's parameters and labels when it has any), unique per flow group in
the database, so the scheduler's pass, a second server doing the same, and a backfill over
a window the scheduler covered all land on the same run. Turning a schedule off drops the
auto-scheduled runs no agent has taken. The scheduler service
(:mod:`headrace.server.services.scheduler`), backfills (:mod:`.backfill`) and the flow
group route (``PATCH /flow_groups/{id}``) use these.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.schedules import ClockEvent
from headrace.server.db.models import Flow, FlowRun
from headrace.server.domain.runs import create_flow_run
from headrace.utilities.logging import get_logger

logger = get_logger("server.scheduler")

__all__ = [
    "create_event_run",
    "drop_auto_scheduled_runs",
    "event_key",
    "schedule_key",
]


def schedule_key(when: datetime) -> str:
    """The idempotency key of the auto-scheduled run at ``when`` (UTC, ISO 8601)."""
    return f"auto:{when.astimezone(UTC).isoformat()}"


def event_key(event: ClockEvent) -> str:
    """The idempotency key of the run a schedule event creates: its time, and a digest of its
    parameters and labels when it has any (two clocks firing at one time with different
    parameters make two runs; the same event twice makes one)."""
    key = schedule_key(event.start_time)
    if not event.parameter_defaults and event.labels is None:
        return key
    extra = json.dumps([event.parameter_defaults, event.labels], sort_keys=True, default=str)
    return f"{key}:{hashlib.sha256(extra.encode()).hexdigest()[:16]}"


def create_event_run(
    session: Session,
    flow: Flow,
    event: ClockEvent,
    *,
    now: datetime,
    max_retries: int,
    auto_scheduled: bool = True,
    backfill_id: str | None = None,
) -> tuple[FlowRun, bool]:
    """The run ``event`` of ``flow``'s schedule stands for (created once, see :func:`event_key`)."""
    extra: dict[str, Any] = {"backfill_id": backfill_id} if backfill_id else {}
    return create_flow_run(
        session,
        flow,
        now=now,
        parameters=dict(event.parameter_defaults),
        labels=event.labels,
        scheduled_start=event.start_time,
        auto_scheduled=auto_scheduled,
        idempotency_key=event_key(event),
        max_retries=max_retries,
        **extra,
    )


def drop_auto_scheduled_runs(session: Session, flow_group_id: str) -> int:
    """Delete the runs the scheduler made for a flow group that no agent has taken yet (as
    Prefect does when a schedule is turned off); runs a person or a backfill created, and
    any run that started, stay. Returns how many went. Turning the schedule on again lets
    the scheduler make them anew."""
    deleted = session.execute(
        sa.delete(FlowRun)
        .where(
            FlowRun.flow_group_id == flow_group_id,
            FlowRun.auto_scheduled.is_(True),
            FlowRun.state == "Scheduled",
            FlowRun.agent_id.is_(None),
            FlowRun.backfill_id.is_(None),
        )
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(deleted, "rowcount", 0) or 0)
    if count:
        logger.info("schedule off: %d auto-scheduled run(s) of %s deleted", count, flow_group_id)
    return count
