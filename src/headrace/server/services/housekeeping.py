"""Housekeeping: forget the answers of old report batches (kept only so that a retried batch
is a no-op; a runner retries within minutes, so a day is plenty)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from headrace.server.db import Database, rowcount
from headrace.server.models import ReportBatch, utcnow
from headrace.server.settings import ServerSettings

__all__ = ["prune_report_batches"]


def prune_report_batches(
    db: Database, settings: ServerSettings, now: datetime | None = None
) -> int:
    """Delete report-batch records older than ``server.report_batch_ttl`` seconds."""
    cutoff = (now or utcnow()) - timedelta(seconds=settings.report_batch_ttl)
    with db.session() as s:
        return rowcount(s.execute(sa.delete(ReportBatch).where(ReportBatch.created < cutoff)))
