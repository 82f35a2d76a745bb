"""Concurrency limits as stored: list them with how much of each is in use, set, delete.

A limit is a ``(kind, name)`` pair: ``task_tag`` caps the Running task runs carrying a tag
(enforced by the report, :mod:`.report`), ``flow_label`` caps the active flow runs carrying
a label (enforced by the claim, :mod:`.claim`). What is *in use* is counted here the way
those two enforce it, so the list shows the number each check compares against.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.database import rowcount
from headrace.server.db.models import ConcurrencyLimit, FlowRun, FlowRunLabel, TaskRun
from headrace.server.domain.claim import ACTIVE_STATES
from headrace.server.errors import NotFoundError

__all__ = ["active_count", "delete_limit", "list_limits", "put_limit"]


def active_count(session: Session, row: ConcurrencyLimit) -> int:
    """How much of ``row`` is in use: active flow runs with its label, or Running task runs
    with its tag."""
    if row.kind == "flow_label":
        return int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(FlowRunLabel)
                .join(FlowRun, FlowRun.id == FlowRunLabel.flow_run_id)
                .where(FlowRunLabel.label == row.name, FlowRun.state.in_(ACTIVE_STATES))
            )
            or 0
        )
    tags = session.scalars(sa.select(TaskRun.tags).where(TaskRun.state == "Running"))
    return sum(row.name in t for t in tags)


def list_limits(session: Session) -> list[tuple[ConcurrencyLimit, int]]:
    """Every limit (by kind, then name) with its :func:`active_count`."""
    rows = session.scalars(
        sa.select(ConcurrencyLimit).order_by(ConcurrencyLimit.kind, ConcurrencyLimit.name)
    )
    return [(row, active_count(session, row)) for row in rows]


def put_limit(session: Session, kind: str, name: str, limit: int) -> ConcurrencyLimit:
    """Create the ``(kind, name)`` limit, or change its value."""
    row = session.scalar(
        sa.select(ConcurrencyLimit).where(
            ConcurrencyLimit.kind == kind, ConcurrencyLimit.name == name
        )
    )
    if row is None:
        row = ConcurrencyLimit(kind=kind, name=name, limit=limit)
        session.add(row)
    row.limit = limit
    session.flush()
    return row


def delete_limit(session: Session, kind: str, name: str) -> None:
    """Delete the ``(kind, name)`` limit; :class:`NotFoundError` when there is none."""
    n = rowcount(
        session.execute(
            sa.delete(ConcurrencyLimit).where(
                ConcurrencyLimit.kind == kind, ConcurrencyLimit.name == name
            )
        )
    )
    if not n:
        raise NotFoundError(f"no {kind} concurrency limit named {name!r}")
