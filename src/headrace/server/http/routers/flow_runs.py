"""Flow runs: creation, listing, states, heartbeats, cancel, restart and batched reports."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from headrace.server.db.database import Database
from headrace.server.db.models import utcnow
from headrace.server.domain.auth import Principal, create_run_token
from headrace.server.domain.flow_runs import (
    flow_run_heartbeat,
    flow_runs_cursor,
    list_flow_runs,
    task_run_counts,
)
from headrace.server.domain.history import flow_run_history
from headrace.server.domain.listing import (
    CURSOR_DOC,
    CURSOR_PATTERN,
    NEXT_PAGE_HEADERS,
    json_response,
    page_response,
)
from headrace.server.domain.lookup import check_flow_run, get_flow, get_flow_run, get_task_run
from headrace.server.domain.report import apply_report
from headrace.server.domain.retries import runner_lost
from headrace.server.domain.runs import (
    cancel_flow_run,
    create_flow_run,
    rename_flow_run,
    restart_flow_run,
)
from headrace.server.domain.states import CANCELLING, set_flow_run_state
from headrace.server.http.deps import DB, SETTINGS, WHO, get_settings
from headrace.server.http.fast_json import FastJSONRoute
from headrace.server.http.reads import INLINE_OFFSET, run_read
from headrace.server.settings import ServerSettings
from headrace.wire import (
    FlowRunIn,
    FlowRunOut,
    FlowRunPatch,
    HeartbeatOut,
    LostIn,
    ReportIn,
    ReportOut,
    RunTokenOut,
    StateOut,
    StateSetIn,
    StateSetOut,
)
from headrace.wire.limits import MAX_OFFSET
from headrace.wire.names import StateName

__all__ = ["router"]

router = APIRouter(tags=["flow runs"])


@router.post(
    "/flow_runs",
    response_model=FlowRunOut,
    summary="Create a flow run (200 with the existing run for a known idempotency_key)",
    responses={201: {"description": "Created"}},
)
def create_run(
    body: FlowRunIn,
    response: Response,
    db: Database = DB,
    who: Principal = WHO,
    settings: ServerSettings = Depends(get_settings),
) -> FlowRunOut:
    with db.session() as s:
        flow = get_flow(s, body.flow_id, who)
        if body.parent_task_run_id is not None:
            get_task_run(s, body.parent_task_run_id, who)  # 404 naming it if unknown
        run, created = create_flow_run(
            s,
            flow,
            now=utcnow(),
            parameters=body.parameters,
            labels=body.labels,
            scheduled_start=body.scheduled_start,
            idempotency_key=body.idempotency_key,
            run_config=body.run_config,
            name=body.name,
            max_retries=settings.flow_run_max_retries
            if body.max_retries is None
            else body.max_retries,
            parent_task_run_id=body.parent_task_run_id,
        )
        response.status_code = 201 if created else 200
        return FlowRunOut.model_validate(run)


@router.get(
    "/flow_runs",
    response_model=list[FlowRunOut],
    summary="List flow runs, newest scheduled first",
    description="Pages by `cursor` (keyset, from the `X-Next-Cursor` header of a full page) "
    "or by `offset`.",
    responses=NEXT_PAGE_HEADERS,
)
async def list_runs(
    request: Request,
    flow_id: str | None = None,
    flow_group_id: str | None = None,
    project_id: str | None = None,
    state: list[StateName] | None = Query(None, description="Repeat to match any of several"),
    label: str | None = None,
    is_late: bool | None = None,
    agent_id: str | None = None,
    id_prefix: str | None = Query(
        None, min_length=1, max_length=36, description="Runs whose id starts with this"
    ),
    order: Literal["newest", "oldest"] = "newest",
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    cursor: str | None = Query(
        None, min_length=1, max_length=400, pattern=CURSOR_PATTERN, description=CURSOR_DOC
    ),
    db: Database = DB,
    who: Principal = WHO,
) -> Response:
    def read() -> list[dict[str, Any]]:
        with db.reading() as conn:
            return list_flow_runs(
                conn,
                db.dialect,
                who,
                flow_id=flow_id,
                flow_group_id=flow_group_id,
                project_id=project_id,
                states=state,
                label=label,
                is_late=is_late,
                agent_id=agent_id,
                id_prefix=id_prefix,
                order=order,
                limit=limit,
                offset=offset,
                cursor=cursor,
            )

    # by the (scheduled_start, id) index, or the project's or flow group's: a bounded walk
    cheap = (
        offset <= INLINE_OFFSET
        and not (flow_id or state or label or id_prefix)
        and (is_late is None and agent_id is None)
    )
    rows = await run_read(db, cheap, read)
    return page_response(request, rows, limit, lambda: flow_runs_cursor(order, rows[-1]))


@router.get(
    "/flow_runs/{flow_run_id}",
    response_model=FlowRunOut,
    summary="One flow run with its task runs counted by state",
)
def read_run(flow_run_id: str, db: Database = DB, who: Principal = WHO) -> FlowRunOut:
    with db.session(write=False) as s:
        out = FlowRunOut.model_validate(get_flow_run(s, flow_run_id, who))
        out.task_run_counts = task_run_counts(s, flow_run_id)
        return out


@router.post(
    "/flow_runs/{flow_run_id}/state",
    response_model=StateSetOut,
    summary="Set a flow run's state (409 on a stale version or a forbidden transition)",
)
def set_run_state(
    flow_run_id: str, body: StateSetIn, db: Database = DB, who: Principal = WHO
) -> StateSetOut:
    with db.session() as s:
        run = get_flow_run(s, flow_run_id, who, lock=True)
        set_flow_run_state(
            s,
            run,
            body.state.name,
            now=utcnow(),
            message=body.state.message,
            serialized=body.state.serialized,
            timestamp=body.state.timestamp,
            expected_version=body.version,
        )
        return StateSetOut(state=run.state, version=run.version)


@router.get(
    "/flow_runs/{flow_run_id}/states",
    response_model=list[StateOut],
    summary="The state history of a flow run (task_runs=true adds its task runs')",
    description="Without `task_runs`: the flow run's states in the order they were written. "
    "With it, also its task runs' states, all ordered by timestamp. A plain mapped child's "
    "states are kept in its task-run row, not as history rows: they come back with `id` 0.",
)
def run_states(
    flow_run_id: str,
    task_runs: bool = False,
    db: Database = DB,
    who: Principal = WHO,
    limit: int = Query(1000, ge=1, le=10000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[StateOut]:
    with db.session(write=False) as s:
        check_flow_run(s.connection(), flow_run_id, who)
        history = flow_run_history(s, flow_run_id, task_runs, limit, offset)
        return [StateOut.model_validate(r) for r in history]


@router.post(
    "/flow_runs/{flow_run_id}/heartbeat",
    response_model=HeartbeatOut,
    summary="The runner is alive; the answer says whether to stop (cancel)",
)
def heartbeat(flow_run_id: str, db: Database = DB, who: Principal = WHO) -> HeartbeatOut:
    with db.session() as s:  # one UPDATE ... RETURNING: runners call this often
        state, version, run_count = flow_run_heartbeat(s, who, flow_run_id, utcnow())
        return HeartbeatOut(
            state=state,
            version=version,
            cancel_requested=state == CANCELLING,
            run_count=run_count,
        )


@router.post(
    "/flow_runs/{flow_run_id}/lost",
    response_model=FlowRunOut,
    summary="Its runner died (process exit, signal, agent loss): retried or failed by the server",
)
def lost(flow_run_id: str, body: LostIn, db: Database = DB, who: Principal = WHO) -> FlowRunOut:
    """The server applies the run's retry policy (``max_retries``) whatever the death; a run
    that has no runner to lose any more (finished, rescheduled) is returned unchanged."""
    with db.session() as s:
        run = get_flow_run(s, flow_run_id, who, lock=True)
        if body.agent_id is None or body.agent_id == run.agent_id:
            runner_lost(s, run, body.reason, utcnow())
        return FlowRunOut.model_validate(run)


@router.post(
    "/flow_runs/{flow_run_id}/cancel",
    response_model=FlowRunOut,
    summary="Cancel: Cancelled if not started, else Cancelling until its agent stops it",
)
def cancel(flow_run_id: str, db: Database = DB, who: Principal = WHO) -> FlowRunOut:
    with db.session() as s:
        run = get_flow_run(s, flow_run_id, who, lock=True)
        cancel_flow_run(s, run, utcnow())
        return FlowRunOut.model_validate(run)


@router.patch(
    "/flow_runs/{flow_run_id}",
    response_model=FlowRunOut,
    summary="Rename a flow run",
)
def rename(
    flow_run_id: str, body: FlowRunPatch, db: Database = DB, who: Principal = WHO
) -> FlowRunOut:
    with db.session() as s:
        run = get_flow_run(s, flow_run_id, who, lock=True)
        rename_flow_run(s, run, body.name)
        return FlowRunOut.model_validate(run)


@router.post(
    "/flow_runs/{flow_run_id}/restart",
    response_model=FlowRunOut,
    summary="Restart a finished run: Scheduled again, successful task runs kept",
)
def restart(flow_run_id: str, db: Database = DB, who: Principal = WHO) -> FlowRunOut:
    with db.session() as s:
        run = get_flow_run(s, flow_run_id, who, lock=True)
        restart_flow_run(s, run, utcnow(), "restarted")
        out = FlowRunOut.model_validate(run)
        out.task_run_counts = task_run_counts(s, flow_run_id)
        return out


@router.post(
    "/flow_runs/{flow_run_id}/token",
    response_model=RunTokenOut,
    status_code=201,
    summary="A token that may only report for this run, for server.run_token_ttl seconds",
)
def run_token(
    flow_run_id: str,
    db: Database = DB,
    who: Principal = WHO,
    settings: ServerSettings = SETTINGS,
) -> RunTokenOut:
    """What a runner hands its worker processes instead of its own API key."""
    with db.session() as s:
        run = get_flow_run(s, flow_run_id, who)
        row, token = create_run_token(s, run.id, run.project_id, settings.run_token_ttl)
        assert row.expires is not None
        return RunTokenOut(token=token, flow_run_id=run.id, expires=row.expires)


def report(
    flow_run_id: str,
    body: ReportIn,
    db: Database = DB,
    who: Principal = WHO,
    settings: ServerSettings = SETTINGS,
) -> Response:
    with db.session() as s:
        run = get_flow_run(s, flow_run_id, who, lock=True)
        out = apply_report(s, run, body, utcnow(), settings.max_log_message_chars)
    # built as plain JSON-ready data (documented by ReportOut): re-validating thousands of
    # entries through the response model would cost more than applying them
    return json_response(out)


# a report's body can be hundreds of kilobytes: parsed by orjson (see fast_json)
router.add_api_route(
    "/flow_runs/{flow_run_id}/report",
    report,
    methods=["POST"],
    response_model=ReportOut,
    summary="Batched report from the runner: task/flow states, logs, heartbeat",
    route_class_override=FastJSONRoute,
)
