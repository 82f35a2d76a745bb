"""Task runs (one per task and per mapped child) and logs."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any, cast

import sqlalchemy as sa
from fastapi import APIRouter, Body, Query, Request, Response

from headrace.server.db.database import Database
from headrace.server.db.models import Log, TaskRun, utcnow
from headrace.server.domain.auth import Principal
from headrace.server.domain.history import task_run_history
from headrace.server.domain.listing import (
    CURSOR_DOC,
    CURSOR_PATTERN,
    NEXT_PAGE_HEADERS,
    Columns,
    decode_cursor,
    encode_cursor,
    page_response,
)
from headrace.server.domain.lookup import get_flow_run, get_task_run
from headrace.server.domain.report import check_task_concurrency, insert_logs
from headrace.server.domain.runs import pending_task_run
from headrace.server.domain.states import FINISHED_NAMES, check_name, check_transition, write_state
from headrace.server.domain.task_detail import attempts_of
from headrace.server.errors import VersionConflictError
from headrace.server.http.deps import DB, SETTINGS, WHO
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


_TASK_RUN_COLUMNS = Columns(cast(sa.Table, TaskRun.__table__), list(TaskRunOut.model_fields))
_LOG_COLUMNS = Columns(cast(sa.Table, Log.__table__), list(LogOut.model_fields))


@router.get(
    "/flow_runs/{flow_run_id}/task_runs",
    response_model=list[TaskRunOut],
    tags=["task runs"],
    summary="Task runs of a flow run, by slug then map index",
    description="Pages by `cursor` (keyset, from the `X-Next-Cursor` header of a full page) "
    "or by `offset`.",
    responses=NEXT_PAGE_HEADERS,
)
def list_task_runs(
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
    with db.session(write=False) as s:
        get_flow_run(s, flow_run_id, who)
        q = _TASK_RUN_COLUMNS.select(db.dialect).where(TaskRun.flow_run_id == flow_run_id)
        if task_slug is not None:
            q = q.where(TaskRun.task_slug == task_slug)
        if state:
            for name in state:
                check_name(name, "state", cancelling=True)
            q = q.where(TaskRun.state.in_(state))
        if not include_children:
            q = q.where(TaskRun.map_index == -1)
        if min_map_index is not None:
            q = q.where(TaskRun.map_index >= min_map_index)
        if max_map_index is not None:
            q = q.where(TaskRun.map_index <= max_map_index)
        if cursor is not None:
            slug, index = decode_cursor(cursor, "task_runs", (str, int))
            q = q.where(
                sa.or_(
                    TaskRun.task_slug > slug,
                    sa.and_(TaskRun.task_slug == slug, TaskRun.map_index > index),
                )
            )
        q = q.order_by(TaskRun.task_slug, TaskRun.map_index).limit(limit).offset(offset)
        rows = _TASK_RUN_COLUMNS.rows(s.connection().execute(q), db.dialect)

    def next_cursor() -> str:
        return encode_cursor("task_runs", [rows[-1]["task_slug"], rows[-1]["map_index"]])

    return page_response(request, rows, limit, next_cursor)


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
        get_flow_run(s, flow_run_id, who)
        parents = s.execute(
            sa.select(TaskRun.task_slug, TaskRun.task_name, TaskRun.state).where(
                TaskRun.flow_run_id == flow_run_id, TaskRun.map_index == -1
            )
        ).all()
        children = s.execute(
            sa.select(TaskRun.task_slug, TaskRun.state, sa.func.count())
            .where(TaskRun.flow_run_id == flow_run_id, TaskRun.map_index >= 0)
            .group_by(TaskRun.task_slug, TaskRun.state)
        ).all()
        out = {
            slug: TaskSummaryOut(task_slug=slug, task_name=name, state=state)
            for slug, name, state in parents
        }
        for slug, state, count in children:
            item = out.setdefault(slug, TaskSummaryOut(task_slug=slug, task_name=slug))
            item.children[state] = int(count)
            item.children_total += int(count)
        return [out[k] for k in sorted(out)]


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
        wanted = {(t.task_slug, t.map_index): t for t in body}
        by_slug: dict[str, set[int]] = defaultdict(set)
        for slug, index in wanted:
            by_slug[slug].add(index)
        existing = {
            (r.task_slug, r.map_index)
            for r in s.scalars(
                sa.select(TaskRun).where(
                    TaskRun.flow_run_id == flow_run_id, TaskRun.task_slug.in_(list(by_slug))
                )
            )
        }
        now = utcnow()
        rows = [
            pending_task_run(flow_run_id, slug, idx, t.task_name or slug, sorted(set(t.tags)), now)
            for (slug, idx), t in wanted.items()
            if (slug, idx) not in existing
        ]
        if rows:
            s.execute(sa.insert(TaskRun), rows)
        out = s.scalars(
            sa.select(TaskRun).where(
                TaskRun.flow_run_id == flow_run_id, TaskRun.task_slug.in_(list(by_slug))
            )
        )
        return [TaskRunOut.model_validate(t) for t in out if (t.task_slug, t.map_index) in wanted]


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
        s.refresh(row, with_for_update=True)
        new = body.state.name
        if body.version is not None and body.version != row.version:
            raise VersionConflictError(
                f"task run {task_run_id} is at version {row.version}, not {body.version}"
            )
        check_transition(row.state, new, f"task run {row.task_slug}[{row.map_index}]")
        if new == "Running" and row.state != "Running":
            check_task_concurrency(s, row.tags)
        now = utcnow()
        values: dict[str, Any] = {
            "state": new,
            "state_message": body.state.message,
            "state_serialized": body.state.serialized,
            "state_timestamp": body.state.timestamp or now,
            "version": row.version + 1,
            "end_time": (body.state.timestamp or now) if new in FINISHED_NAMES else None,
        }
        if new == "Running" and row.state != "Running":
            values["run_count"] = row.run_count + 1
            if row.start_time is None:
                values["start_time"] = body.state.timestamp or now
        what = f"task run {task_run_id}"
        serialized = body.state.serialized
        write_state(s, row, values, message=body.state.message, serialized=serialized, what=what)
        return StateSetOut(state=new, version=row.version + 1)


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
            get_flow_run(s, run_id, who)
            insert_logs(s, run_id, logs, now, max_chars=settings.max_log_message_chars)
    return {"inserted": len(body)}


@router.get(
    "/flow_runs/{flow_run_id}/logs",
    response_model=list[LogOut],
    tags=["logs"],
    summary="Logs of a run, oldest first; page with cursor, after_id (or offset)",
    responses=NEXT_PAGE_HEADERS,
)
def read_logs(
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
    with db.session(write=False) as s:
        get_flow_run(s, flow_run_id, who)
        q = _LOG_COLUMNS.select(db.dialect).where(
            Log.flow_run_id == flow_run_id, Log.level >= level
        )
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            q = q.where(Log.message.ilike(f"%{escaped}%", escape="\\"))
        if task_run_id is not None:
            q = q.where(Log.task_run_id == task_run_id)
        if after_id is not None:
            q = q.where(Log.id > after_id)
        if cursor is not None:
            (last_id,) = decode_cursor(cursor, "logs", (int,))
            q = q.where(Log.id > last_id)
        q = q.order_by(Log.id).limit(limit).offset(offset)
        rows = _LOG_COLUMNS.rows(s.connection().execute(q), db.dialect)
    return page_response(request, rows, limit, lambda: encode_cursor("logs", [rows[-1]["id"]]))
