"""The late-run watcher: a run still Scheduled ``late_after`` seconds after its start is
flagged ``is_late`` (the flag stays, for the record, once someone picks it up)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from headrace.server.db.database import Database, rowcount
from headrace.server.db.models import FlowRun, utcnow
from headrace.server.settings import ServerSettings

__all__ = ["mark_late_runs"]


def mark_late_runs(db: Database, settings: ServerSettings, now: datetime | None = None) -> int:
    """Flag overdue unclaimed runs; returns how many were newly flagged."""
    cutoff = (now or utcnow()) - timedelta(seconds=settings.late_after)
    with db.session() as s:
        result = s.execute(
            sa.update(FlowRun)
            .where(
                FlowRun.state == "Scheduled",
                FlowRun.scheduled_start < cutoff,
                FlowRun.is_late.is_(False),
            )
            .values(is_late=True)
        )
        return rowcount(result)
