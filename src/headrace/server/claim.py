"""Atomic claiming of due flow runs by agents.

A run is due when it is ``Scheduled`` and its scheduled start has passed. An agent may take
it when every label of the run is among the agent's labels (an agent without labels takes
only unlabeled runs) and when no flow-label concurrency limit would be exceeded by the runs
already ``Submitted``/``Running``/``Cancelling``. Claiming moves the run to ``Submitted``
with the agent's id in the same transaction that selected it, so two agents never get one
run: on SQLite the write transaction is ``BEGIN IMMEDIATE`` (one writer at a time); on
PostgreSQL the candidate rows are locked ``FOR UPDATE SKIP LOCKED`` (concurrent claimers
take different rows), and when flow-label limits exist their rows are locked too so two
claimers cannot both take the last slot.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.auth import Principal
from headrace.server.models import Agent, ConcurrencyLimit, FlowRun, FlowRunLabel
from headrace.server.states import CANCELLING, set_flow_run_state

__all__ = ["ACTIVE_STATES", "claim_flow_runs"]

ACTIVE_STATES = ("Submitted", "Running", CANCELLING)


def _label_limits(session: Session, postgres: bool) -> dict[str, int]:
    query = sa.select(ConcurrencyLimit).where(ConcurrencyLimit.kind == "flow_label")
    if postgres:
        query = query.with_for_update()
    return {row.name: row.limit for row in session.scalars(query)}


def _active_label_counts(session: Session, labels: list[str]) -> Counter[str]:
    rows = session.execute(
        sa.select(FlowRunLabel.label, sa.func.count())
        .join(FlowRun, FlowRun.id == FlowRunLabel.flow_run_id)
        .where(FlowRun.state.in_(ACTIVE_STATES), FlowRunLabel.label.in_(labels))
        .group_by(FlowRunLabel.label)
    )
    return Counter({label: int(count) for label, count in rows})


def claim_flow_runs(
    session: Session, agent: Agent, principal: Principal, now: datetime, limit: int
) -> list[FlowRun]:
    """Claim up to ``limit`` due runs for ``agent``; returns them, now ``Submitted``."""
    postgres = session.get_bind().dialect.name == "postgresql"
    limits = _label_limits(session, postgres)
    foreign = sa.exists().where(
        FlowRunLabel.flow_run_id == FlowRun.id, FlowRunLabel.label.not_in(agent.labels or [""])
    )
    query = (
        sa.select(FlowRun)
        .where(
            FlowRun.state == "Scheduled",
            FlowRun.scheduled_start <= now,
            principal.scope(FlowRun.project_id),
            ~foreign,
        )
        .order_by(FlowRun.scheduled_start, FlowRun.id)
        .limit(limit * 4 if limits else limit)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, of=FlowRun)
    candidates = list(session.scalars(query))
    active = _active_label_counts(session, list(limits)) if limits else Counter()
    claimed: list[FlowRun] = []
    for run in candidates:
        if len(claimed) >= limit:
            break
        limited = [lb for lb in run.labels if lb in limits]
        if any(active[lb] >= limits[lb] for lb in limited):
            continue
        set_flow_run_state(
            session,
            run,
            "Submitted",
            now=now,
            message=f"claimed by agent {agent.name}",
            extra={"agent_id": agent.id, "claimed_at": now},
        )
        active.update(limited)
        claimed.append(run)
    return claimed
