"""Task runs (one per task and per mapped child) and logs."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from headrace.server.db.database import Database
from headrace.server.db.models import utcnow
from headrace.server.domain import task_runs
from headrace.server.domain.auth import Principal
from headrace.server.domain.history import task_run_history
from headrace.server.domain.listing import (
    CURSOR_DOC,
    CURSOR_PATTERN,
    NEXT_PAGE_HEADERS,
    page_response,
)
from headrace.server.domain.logs import list_logs, logs_cursor
from headrace.server.domain.lookup import check_flow_run, get_flow_run, get_task_run
from headrace.server.domain.report import insert_logs
from headrace.server.domain.task_detail import attempts_of
from headrace.server.http.deps import DB, SETTINGS, WHO
from headrace.server.http.reads import INLINE_OFFSET, run_read
from headrace.server.settings import ServerSettings
from headrace.wire import (
    AttemptOut,
    LogIn,
    LogOut,
    RunLogIn,
    StateOut,
    StateSetIn,
    StateSetOut,
    TaskRunIn,
    TaskRunOut,
    TaskSummaryOut,
)
from headrace.wire.limits import MAX_BATCH, MAX_ID, MAX_OFFSET
from headrace.wire.names import StateName

__all__ = ["router"]

router = APIRouter()


@router.get(
    "/flow_runs/{flow_run_id}/task_runs",
    response_model=list[TaskRunOut],
    tags=["task runs"],
    summary="Task runs of a flow run, by slug then map index",
    description="Pages by `cursor` (keyset, from the `X-Next-Cursor` header of a full page) "
    "or by `offset`.",
    responses=NEXT_PAGE_HEADERS,
)
async def list_task_runs(
    request: Request,
    flow_run_id: str,
    task_slug: str | None = None,
    state: list[StateName] | None = Query(None),
    include_children: bool = Query(True, description="Include mapped children"),
    min_map_index: int | None = Query(None, ge=-1, description="Only map indices >= this"),
    max_map_index: int | None = Query(None, ge=-1, description="Only map indices <= this"),
    limit: int = Query(1000, ge=1, le=10000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    cursor: str | None = Query(
        None, min_length=1, max_length=1000, pattern=CURSOR_PATTERN, description=CURSOR_DOC
    ),
    db: Database = DB,
    who: Principal = WHO,
) -> Response:
    def read() -> list[dict[str, Any]]:
        with db.reading() as conn:
            check_flow_run(conn, flow_run_id, who)
            return task_runs.list_task_runs(
                conn,
                db.dialect,
                flow_run_id,
                task_slug=task_slug,
                states=state,
                include_children=include_children,
                min_map_index=min_map_index,
                max_map_index=max_map_index,
                limit=limit,
                offset=offset,
                cursor=cursor,
            )

    # by the (flow run, slug, map index) key: a bounded walk unless states filter it
    rows = await run_read(db, offset <= INLINE_OFFSET and not state, read)
    return page_response(request, rows, limit, lambda: task_runs.task_runs_cursor(rows[-1]))


@router.get(
    "/flow_runs/{flow_run_id}/task_runs/summary",
    response_model=list[TaskSummaryOut],
    tags=["task runs"],
    summary="Per task: its own state and its mapped children counted by state",
)
def task_run_summary(
    flow_run_id: str, db: Database = DB, who: Principal = WHO
) -> list[TaskSummaryOut]:
    with db.session(write=False) as s:
        check_flow_run(s.connection(), flow_run_id, who)
        return task_runs.task_run_summary(s, flow_run_id)


@router.post(
    "/flow_runs/{flow_run_id}/task_runs",
    response_model=list[TaskRunOut],
    tags=["task runs"],
    summary="Create task runs in bulk; existing (slug, map_index) rows are returned",
)
def create_task_runs(
    flow_run_id: str,
    body: Annotated[list[TaskRunIn], Body(max_length=MAX_BATCH)],
    db: Database = DB,
    who: Principal = WHO,
) -> list[TaskRunOut]:
    with db.session() as s:
        get_flow_run(s, flow_run_id, who, lock=True)
        rows = task_runs.create_task_runs(s, flow_run_id, body, utcnow())
        return [TaskRunOut.model_validate(t) for t in rows]


@router.get("/task_runs/{task_run_id}", response_model=TaskRunOut, tags=["task runs"])
def read_task_run(task_run_id: str, db: Database = DB, who: Principal = WHO) -> TaskRunOut:
    with db.session(write=False) as s:
        return TaskRunOut.model_validate(get_task_run(s, task_run_id, who))


@router.post(
    "/task_runs/{task_run_id}/state",
    response_model=StateSetOut,
    tags=["task runs"],
    summary="Set one task run's state (the report endpoint batches many)",
)
def set_task_run_state(
    task_run_id: str, body: StateSetIn, db: Database = DB, who: Principal = WHO
) -> StateSetOut:
    with db.session() as s:
        row = get_task_run(s, task_run_id, who)
        version = task_runs.set_task_run_state(
            s, row, body.state, expected_version=body.version, now=utcnow()
        )
        return StateSetOut(state=body.state.name, version=version)


@router.get("/task_runs/{task_run_id}/states", response_model=list[StateOut], tags=["task runs"])
def task_run_states(task_run_id: str, db: Database = DB, who: Principal = WHO) -> list[StateOut]:
    with db.session(write=False) as s:
        row = get_task_run(s, task_run_id, who)
        return [StateOut.model_validate(r) for r in task_run_history(s, row)]


@router.get(
    "/task_runs/{task_run_id}/attempts",
    response_model=list[AttemptOut],
    tags=["task runs"],
    summary="Each attempt of a task run (retries): start, end, final state, message, error",
)
def task_run_attempts(
    task_run_id: str, db: Database = DB, who: Principal = WHO
) -> list[AttemptOut]:
    with db.session(write=False) as s:
        history = task_run_history(s, get_task_run(s, task_run_id, who))
        return [AttemptOut.model_validate(a) for a in attempts_of(history)]


@router.post("/logs", tags=["logs"], summary="Insert log records in bulk (each names its run)")
def write_logs(
    body: Annotated[list[RunLogIn], Body(max_length=MAX_BATCH)],
    db: Database = DB,
    who: Principal = WHO,
    settings: ServerSettings = SETTINGS,
) -> dict[str, int]:
    by_run: dict[str, list[LogIn]] = defaultdict(list)
    for log in body:
        by_run[log.flow_run_id].append(log)
    with db.session() as s:
        now = utcnow()
        for run_id, logs in by_run.items():
            check_flow_run(s.connection(), run_id, who)
            insert_logs(s, run_id, logs, now, max_chars=settings.max_log_message_chars)
    return {"inserted": len(body)}


@router.get(
    "/flow_runs/{flow_run_id}/logs",
    response_model=list[LogOut],
    tags=["logs"],
    summary="Logs of a run, oldest first; page with cursor, after_id (or offset)",
    responses=NEXT_PAGE_HEADERS,
)
async def read_logs(
    request: Request,
    flow_run_id: str,
    level: int = Query(0, ge=0, le=100, description="Minimum level (20 = INFO)"),
    search: str | None = Query(None, max_length=200, description="Substring of the message"),
    task_run_id: str | None = None,
    after_id: int | None = Query(
        None, ge=-1, le=MAX_ID, description="Only records with a larger id (tailing)"
    ),
    limit: int = Query(200, ge=1, le=10000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    cursor: str | None = Query(
        None, min_length=1, max_length=200, pattern=CURSOR_PATTERN, description=CURSOR_DOC
    ),
    db: Database = DB,
    who: Principal = WHO,
) -> Response:
    def read() -> list[dict[str, Any]]:
        with db.reading() as conn:
            check_flow_run(conn, flow_run_id, who)
            return list_logs(
                conn,
                db.dialect,
                flow_run_id,
                level=level,
                search=search,
                task_run_id=task_run_id,
                after_id=after_id,
                limit=limit,
                offset=offset,
                cursor=cursor,
            )

    # by the (flow run, id) index: a bounded walk unless a filter skips rows
    cheap = offset <= INLINE_OFFSET and not (level or search or task_run_id)
    rows = await run_read(db, cheap, read)
    return page_response(request, rows, limit, lambda: logs_cursor(rows[-1]))
