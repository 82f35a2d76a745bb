"""Atomic claiming of due flow runs by agents.

A run is due when it is ``Scheduled`` and its scheduled start has passed. An agent may take
it when every label of the run is among the agent's labels (an agent without labels takes
only unlabeled runs) and when no flow-label concurrency limit would be exceeded by the runs
already ``Submitted``/``Running``/``Cancelling``. Claiming moves the run to ``Submitted``
with the agent's id in the same transaction that selected it, so two agents never get one
run: on SQLite the write transaction is ``BEGIN IMMEDIATE`` (one writer at a time); on
PostgreSQL the candidate rows are locked ``FOR UPDATE SKIP LOCKED`` (concurrent claimers
take different rows), and when flow-label limits exist their rows are locked too so two
claimers cannot both take the last slot. A backfill's ``max_concurrent`` caps its runs the
same way: a run of a backfill whose cap of active runs is reached is skipped (its backfill
row locked on PostgreSQL).

Projects: an agent only ever claims runs of the projects its API key sees (a
project-scoped key claims only its projects' runs), and an agent started for some projects
(``headrace agent local start --project p``) asks for only those: its claim names them and
takes nothing else. A named project the key may not see is a 404, like one that does not
exist.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from headrace.server.db.models import (
    Agent,
    Backfill,
    ConcurrencyLimit,
    FlowRun,
    FlowRunLabel,
    Project,
)
from headrace.server.domain.auth import Principal
from headrace.server.domain.states import CANCELLING, set_flow_run_state
from headrace.server.errors import NotFoundError

__all__ = ["ACTIVE_STATES", "claim_flow_runs", "visible_project_ids"]

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


def _backfill_full() -> sa.ColumnElement[bool]:
    """True for a run of a backfill whose cap of active runs is already reached (one
    immutable clause, built once: an alias costs a proxy per column each time)."""
    global _BACKFILL_FULL
    if _BACKFILL_FULL is None:
        other = aliased(FlowRun)
        active = (
            sa.select(sa.func.count())
            .where(other.backfill_id == Backfill.id, other.state.in_(ACTIVE_STATES))
            .scalar_subquery()
        )
        _BACKFILL_FULL = sa.exists().where(
            Backfill.id == FlowRun.backfill_id,
            Backfill.max_concurrent.is_not(None),
            Backfill.max_concurrent <= active,
        )
    return _BACKFILL_FULL


_BACKFILL_FULL: sa.ColumnElement[bool] | None = None


def _backfill_room(session: Session, runs: list[FlowRun], postgres: bool) -> dict[str, int]:
    """For each capped backfill among ``runs``: how many more of its runs may start."""
    ids = sorted({r.backfill_id for r in runs if r.backfill_id})
    if not ids:
        return {}
    query = sa.select(Backfill.id, Backfill.max_concurrent).where(
        Backfill.id.in_(ids), Backfill.max_concurrent.is_not(None)
    )
    if postgres:
        query = query.with_for_update()
    caps = {bid: int(cap or 0) for bid, cap in session.execute(query)}
    if not caps:
        return {}
    active = {
        bid: int(n)
        for bid, n in session.execute(
            sa.select(FlowRun.backfill_id, sa.func.count())
            .where(FlowRun.backfill_id.in_(list(caps)), FlowRun.state.in_(ACTIVE_STATES))
            .group_by(FlowRun.backfill_id)
        )
    }
    return {bid: cap - int(active.get(bid, 0)) for bid, cap in caps.items()}


def visible_project_ids(session: Session, principal: Principal, names: list[str]) -> list[str]:
    """The ids of the projects ``names`` (each a name or an id) that ``principal`` sees;
    404 naming the first one that does not exist or is not visible."""
    found = {
        key: row.id
        for row in session.scalars(
            sa.select(Project).where(sa.or_(Project.name.in_(names), Project.id.in_(names)))
        )
        if principal.can_see(row.id)
        for key in (row.name, row.id)
    }
    missing = [name for name in names if name not in found]
    if missing:
        raise NotFoundError(f"project {missing[0]!r} not found", field="projects")
    return sorted({found[name] for name in names})


def claim_flow_runs(
    session: Session,
    agent: Agent,
    principal: Principal,
    now: datetime,
    limit: int,
    project_ids: list[str] | None = None,
) -> list[FlowRun]:
    """Claim up to ``limit`` due runs for ``agent`` (only of ``project_ids`` when given);
    returns them, now ``Submitted``."""
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
            sa.true() if project_ids is None else FlowRun.project_id.in_(project_ids),
            ~foreign,
            ~_backfill_full(),
        )
        .order_by(FlowRun.scheduled_start, FlowRun.id)
        .limit(limit * 4 if limits else limit)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, of=FlowRun)
    candidates = list(session.scalars(query))
    active = _active_label_counts(session, list(limits)) if limits else Counter()
    backfill_room = _backfill_room(session, candidates, postgres)
    claimed: list[FlowRun] = []
    for run in candidates:
        if len(claimed) >= limit:
            break
        limited = [lb for lb in run.labels if lb in limits]
        if any(active[lb] >= limits[lb] for lb in limited):
            continue
        if run.backfill_id in backfill_room:
            if backfill_room[run.backfill_id] <= 0:
                continue
            backfill_room[run.backfill_id] -= 1
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
