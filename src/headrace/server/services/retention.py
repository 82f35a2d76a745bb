"""Log retention: delete flow-run log lines older than ``server.log_retention_days``.

Logs are the one table that grows with every run; without retention it grows forever.
Each pass deletes in small batches, one short write transaction per batch, so on SQLite
(one writer at a time) runners reporting in meanwhile wait at most for one batch, never for
the whole clean-up.

Which rows go: the pass finds the *boundary*, the lowest log id whose timestamp is within
the retention, and deletes the rows below it, oldest first. Log ids grow in insertion
order, so everything below the boundary is older than the cutoff by definition (nothing
younger is ever deleted) and each batch is a primary-key range, cheap on both databases
without an index on the timestamp. A line shipped late with an old timestamp sits above
the boundary and goes on a later pass, once the lines logged before it have aged out too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from headrace.server.db.database import Database, rowcount
from headrace.server.db.models import Log, utcnow
from headrace.server.settings import ServerSettings

__all__ = ["MAX_BATCHES_PER_PASS", "delete_old_logs"]

#: Batches one pass deletes at most; the rest waits for the next pass (every
#: ``server.services_interval`` seconds), so a first clean-up of a huge table is spread out.
MAX_BATCHES_PER_PASS = 50


def _boundary(db: Database, cutoff: datetime) -> int | None:
    """The lowest id of a line logged at or after ``cutoff`` (None: every line is older)."""
    with db.session(write=False) as s:
        return s.scalar(sa.select(Log.id).where(Log.timestamp >= cutoff).order_by(Log.id).limit(1))


def delete_old_logs(db: Database, settings: ServerSettings, now: datetime | None = None) -> int:
    """Delete log lines older than the retention (``0`` keeps them forever), at most
    ``MAX_BATCHES_PER_PASS`` batches of ``server.log_retention_batch_size``; returns how
    many lines were deleted."""
    days = float(settings.log_retention_days)
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    boundary = _boundary(db, cutoff)
    size = max(1, int(settings.log_retention_batch_size))
    deleted = 0
    for _ in range(MAX_BATCHES_PER_PASS):
        below = sa.select(Log.id).order_by(Log.id).limit(size)
        if boundary is not None:
            below = below.where(Log.id < boundary)
        with db.session() as s:
            done = rowcount(s.execute(sa.delete(Log).where(Log.id.in_(below.scalar_subquery()))))
        deleted += done
        if done < size:
            break
    return deleted
