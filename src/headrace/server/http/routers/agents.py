"""Agents: registration, heartbeats (which carry cancel requests) and claiming runs.

Agents belong to the projects of the API key that registered them: a project-scoped key
lists, reads, heartbeats and claims through only agents registered by keys of its own
projects (another project's agent is a 404, as for any resource outside the key's
projects); an admin key sees every agent."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, status
from starlette.concurrency import run_in_threadpool

from headrace.server.db.database import Database
from headrace.server.db.models import utcnow
from headrace.server.domain import agents
from headrace.server.domain.auth import Principal
from headrace.server.domain.claim_wait import waiters_for
from headrace.server.http.deps import DB, WHO
from headrace.wire import (
    AgentHeartbeatIn,
    AgentHeartbeatOut,
    AgentIn,
    AgentOut,
    ClaimIn,
    FlowRunOut,
)

__all__ = ["router"]

router = APIRouter(tags=["agents"])


@router.post(
    "/agents",
    response_model=AgentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register an agent (its labels decide which runs it may claim)",
)
def register_agent(body: AgentIn, db: Database = DB, who: Principal = WHO) -> AgentOut:
    with db.session() as s:
        return AgentOut.model_validate(
            agents.register_agent(s, who, body.name, body.type, body.labels)
        )


@router.get("/agents", response_model=list[AgentOut])
def list_agents(db: Database = DB, who: Principal = WHO) -> list[AgentOut]:
    with db.session(write=False) as s:
        return [AgentOut.model_validate(a) for a in agents.list_agents(s, who)]


@router.get("/agents/{agent_id}", response_model=AgentOut)
def read_agent(agent_id: str, db: Database = DB, who: Principal = WHO) -> AgentOut:
    with db.session(write=False) as s:
        return AgentOut.model_validate(agents.get_agent(s, agent_id, who))


@router.post(
    "/agents/{agent_id}/heartbeat",
    response_model=AgentHeartbeatOut,
    summary="The agent and the runs it holds are alive; lists its runs to stop (Cancelling)",
)
def agent_heartbeat(
    agent_id: str,
    body: AgentHeartbeatIn | None = None,
    db: Database = DB,
    who: Principal = WHO,
) -> AgentHeartbeatOut:
    with db.session() as s:
        agent = agents.get_agent(s, agent_id, who)
        held = None if body is None else body.flow_run_ids
        ids = agents.agent_heartbeat(s, agent, who, utcnow(), held)
        return AgentHeartbeatOut(cancel_flow_run_ids=ids)


@router.post(
    "/agents/{agent_id}/claim",
    response_model=list[FlowRunOut],
    summary="Atomically claim up to `limit` due runs whose labels the agent has (of `projects`); "
    "with `wait`, wait up to that many seconds for one when none is claimable yet",
)
async def claim(
    agent_id: str, body: ClaimIn, request: Request, db: Database = DB, who: Principal = WHO
) -> list[FlowRunOut]:
    """Claim at once; with ``wait`` and nothing claimable, wait until a run may have become
    claimable (see :mod:`headrace.server.domain.claim_wait`), the next run's scheduled start or the
    end of ``wait``, and claim again. A claim whose agent hung up meanwhile takes nothing
    (it would hold runs for an agent that is gone until the reaper frees them)."""
    waiters = waiters_for(db.engine)
    deadline = time.monotonic() + body.wait
    while True:
        seen = waiters.generation
        runs, next_due = await run_in_threadpool(_claim_once, db, agent_id, body, who)
        left = deadline - time.monotonic()
        if runs or left <= 0:
            return runs
        if next_due is not None:
            left = min(left, max(next_due, 0.01))
        await waiters.wait(seen, left)
        if time.monotonic() >= deadline and waiters.generation == seen and next_due is None:
            return []
        if await request.is_disconnected():
            return []


def _claim_once(
    db: Database, agent_id: str, body: ClaimIn, who: Principal
) -> tuple[list[FlowRunOut], float | None]:
    """One atomic claim; with nothing claimed and ``body.wait``, also the seconds until the
    next Scheduled run is due (None: none is)."""
    with db.session() as s:
        runs, next_due = agents.claim_for_agent(
            s, who, agent_id, utcnow(), limit=body.limit, projects=body.projects, wait=body.wait
        )
        return [FlowRunOut.model_validate(r) for r in runs], next_due
