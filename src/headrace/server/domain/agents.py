"""Agents as stored: registration, lookup within the caller's projects, heartbeats.

An agent belongs to the projects of the API key that registered it (None: an admin's);
:meth:`Principal.owns_agent` decides who may see it, and an agent outside the caller's
projects is a 404 like any resource there. A heartbeat keeps the agent and the Submitted runs
it holds alive, and answers the runs it must stop (Cancelling). Claiming runs is
:mod:`.claim`; :func:`claim_for_agent` is one claim by one agent, and how long a waiting
claim may sleep before the next one is :func:`seconds_until_next_due`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Agent, FlowRun
from headrace.server.domain.auth import Principal
from headrace.server.domain.claim import claim_flow_runs, visible_project_ids
from headrace.server.domain.states import CANCELLING
from headrace.server.errors import NotFoundError

__all__ = [
    "agent_heartbeat",
    "claim_for_agent",
    "get_agent",
    "list_agents",
    "register_agent",
    "seconds_until_next_due",
]


def get_agent(session: Session, agent_id: str, who: Principal) -> Agent:
    """The agent ``agent_id`` if ``who`` may use it (:class:`NotFoundError` otherwise)."""
    agent = session.get(Agent, agent_id)
    if agent is None or not who.owns_agent(agent.project_ids):
        raise NotFoundError(f"agent {agent_id} not found", field="agent_id")
    return agent


def register_agent(
    session: Session, who: Principal, name: str, type: str, labels: list[str]
) -> Agent:
    """A new agent, owned by the projects of ``who``'s key."""
    projects = None if who.project_ids is None else sorted(who.project_ids)
    agent = Agent(name=name, type=type, labels=labels, project_ids=projects)
    session.add(agent)
    session.flush()
    return agent


def list_agents(session: Session, who: Principal) -> list[Agent]:
    """The agents ``who`` may see, most recently seen first."""
    rows = session.scalars(sa.select(Agent).order_by(Agent.last_seen.desc()))
    return [a for a in rows if who.owns_agent(a.project_ids)]


def agent_heartbeat(
    session: Session,
    agent: Agent,
    who: Principal,
    now: datetime,
    flow_run_ids: Sequence[str] | None = None,
) -> list[str]:
    """Mark ``agent`` and its Submitted runs (those of ``flow_run_ids`` when given) alive at
    ``now``; returns the ids of its runs to stop (Cancelling, within ``who``'s projects)."""
    agent.last_seen = now
    held = sa.update(FlowRun).where(FlowRun.agent_id == agent.id, FlowRun.state == "Submitted")
    if flow_run_ids is not None:
        held = held.where(FlowRun.id.in_(flow_run_ids))
    session.execute(held.values(heartbeat=now).execution_options(synchronize_session=False))
    ids = session.scalars(
        sa.select(FlowRun.id).where(
            FlowRun.agent_id == agent.id,
            FlowRun.state == CANCELLING,
            who.scope(FlowRun.project_id),
        )
    )
    return list(ids)


def seconds_until_next_due(session: Session, now: datetime) -> float | None:
    """Seconds from ``now`` until the next Scheduled run is due (None: none is): how long a
    long-polled claim that found nothing may sleep before it tries again."""
    start = session.scalar(
        sa.select(sa.func.min(FlowRun.scheduled_start)).where(
            FlowRun.state == "Scheduled", FlowRun.scheduled_start > now
        )
    )
    if start is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=now.tzinfo)
    return (start - now).total_seconds()


def claim_for_agent(
    session: Session,
    who: Principal,
    agent_id: str,
    now: datetime,
    *,
    limit: int,
    projects: list[str] | None,
    wait: float,
) -> tuple[list[FlowRun], float | None]:
    """One atomic claim by agent ``agent_id`` (seen alive at ``now``) of up to ``limit`` due
    runs of ``projects`` (names or ids; None: all it may see). With nothing claimed and a
    ``wait``, also the seconds until the next Scheduled run is due (None: none is)."""
    agent = get_agent(session, agent_id, who)
    agent.last_seen = now
    project_ids = None if projects is None else visible_project_ids(session, who, projects)
    runs = claim_flow_runs(session, agent, who, now, limit, project_ids)
    next_due: float | None = None
    if not runs and wait > 0:
        next_due = seconds_until_next_due(session, now)
    return runs, next_due
