"""The UI's aggregate read endpoints under ``/api/ui``: one request per page refresh.

Each answers everything one page shows, computed with SQL aggregates in one read
transaction, so a page never fires a request per widget and a 10,000-child run's page stays
a few kilobytes. Writes (start, cancel, restart a run) go through the ordinary API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from headrace.server.db.database import Database
from headrace.server.db.models import utcnow
from headrace.server.domain.auth import Principal
from headrace.server.domain.pages.children import mapped_children
from headrace.server.domain.pages.dashboard import dashboard
from headrace.server.domain.pages.flows import flow_page, flows_list
from headrace.server.domain.pages.runs import run_page, runs_list
from headrace.server.domain.task_detail import task_run_detail
from headrace.server.http.deps import get_db, get_principal, get_settings
from headrace.server.settings import ServerSettings
from headrace.server.ui.states import ui_states
from headrace.wire.limits import MAX_ID, MAX_OFFSET
from headrace.wire.names import StateName, Time

__all__ = ["router"]

router = APIRouter(prefix="/api/ui", tags=["ui"])
DB = Depends(get_db)
WHO = Depends(get_principal)


@router.get("/states", summary="Every state name with its colour group, finished and failed")
def ui_state_names(who: Principal = WHO) -> dict[str, Any]:
    """The UI's state vocabulary, from the engine's state classes (no copy in the UI)."""
    return {"states": ui_states()}


@router.get("/dashboard", summary="The dashboard: runs by state, failures, late runs, agents")
def ui_dashboard(
    hours: int = Query(24, ge=1, le=24 * 14),
    db: Database = DB,
    who: Principal = WHO,
    settings: ServerSettings = Depends(get_settings),
) -> dict[str, Any]:
    with db.session(write=False) as s:
        return dashboard(s, who, utcnow(), hours, settings.late_after)


@router.get("/flows", summary="Every flow's latest version with its latest run")
def ui_flows(db: Database = DB, who: Principal = WHO) -> dict[str, Any]:
    with db.session(write=False) as s:
        return flows_list(s, who, utcnow())


@router.get("/flows/{flow_id}", summary="One flow: graph, versions, schedule, Run form, runs")
def ui_flow(flow_id: str, db: Database = DB, who: Principal = WHO) -> dict[str, Any]:
    with db.session(write=False) as s:
        return flow_page(s, who, flow_id, utcnow())


@router.get("/flow_runs", summary="Flow runs filtered by state, flow, label and time")
def ui_flow_runs(
    state: list[StateName] | None = Query(None),
    flow_group_id: str | None = None,
    label: str | None = None,
    since: Time | None = None,
    until: Time | None = None,
    q: str | None = Query(None, max_length=200, description="Part of the run's or flow's name"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    db: Database = DB,
    who: Principal = WHO,
) -> dict[str, Any]:
    with db.session(write=False) as s:
        return runs_list(
            s,
            who,
            states=[x for x in state or [] if x],
            flow_group_id=flow_group_id or None,
            label=label or None,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
            search=(q or "").strip() or None,
        )


@router.get(
    "/flow_runs/{flow_run_id}",
    summary="One run: graph by state with mapped counts, Gantt, logs after `logs_after`",
)
def ui_flow_run(
    flow_run_id: str,
    logs_after: int | None = Query(
        None, ge=0, le=MAX_ID, description="Only log records after this id"
    ),
    log_level: int = Query(0, ge=0, le=100),
    log_search: str | None = Query(None, max_length=200),
    db: Database = DB,
    who: Principal = WHO,
) -> dict[str, Any]:
    with db.session(write=False) as s:
        return run_page(
            s,
            who,
            flow_run_id,
            utcnow(),
            logs_after=logs_after,
            log_level=log_level,
            log_search=log_search or None,
        )


@router.get(
    "/task_runs/{task_run_id}",
    summary="One task run: history with durations, attempts, error, logs, neighbours, result",
)
def ui_task_run(task_run_id: str, db: Database = DB, who: Principal = WHO) -> dict[str, Any]:
    with db.session(write=False) as s:
        return task_run_detail(s, who, task_run_id)


@router.get(
    "/flow_runs/{flow_run_id}/tasks/{task_slug}",
    summary="A mapped task's children: counts by state and one page of them",
)
def ui_mapped_children(
    flow_run_id: str,
    task_slug: str,
    state: list[StateName] | None = Query(None),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    db: Database = DB,
    who: Principal = WHO,
) -> dict[str, Any]:
    with db.session(write=False) as s:
        return mapped_children(
            s,
            who,
            flow_run_id,
            task_slug,
            states=[x for x in state or [] if x],
            limit=limit,
            offset=offset,
        )
