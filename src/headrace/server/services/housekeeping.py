"""Housekeeping: forget the answers of old report batches (kept only so that a retried batch
is a no-op; a runner retries within minutes, so a day is plenty) and the per-run tokens
that have expired (one is made for each run of a server with API keys)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from headrace.server.db.database import Database, rowcount
from headrace.server.db.models import ApiKey, ReportBatch, utcnow
from headrace.server.settings import ServerSettings

__all__ = ["prune_report_batches", "prune_run_tokens"]


def prune_report_batches(
    db: Database, settings: ServerSettings, now: datetime | None = None
) -> int:
    """Delete report-batch records older than ``server.report_batch_ttl`` seconds."""
    cutoff = (now or utcnow()) - timedelta(seconds=settings.report_batch_ttl)
    with db.session() as s:
        return rowcount(s.execute(sa.delete(ReportBatch).where(ReportBatch.created < cutoff)))


def prune_run_tokens(db: Database, settings: ServerSettings, now: datetime | None = None) -> int:
    """Delete per-run tokens that expired (they answer 401 already; this keeps the table
    small)."""
    with db.session() as s:
        expired = sa.delete(ApiKey).where(
            ApiKey.flow_run_id.is_not(None), ApiKey.expires < (now or utcnow())
        )
        return rowcount(s.execute(expired))
