"""Flow-run queries of the API: the filtered, keyset-paged list, task-run counts, heartbeats.

The list reads only the columns :class:`~headrace.wire.FlowRunOut` shows (through
:class:`~.listing.Columns`, one encode per page) and pages by ``(scheduled_start, id)`` in
either order; its cursor names the order it was made for, so a cursor of the newest-first
list is refused by the oldest-first one. A runner's heartbeat is one ``UPDATE ... RETURNING``
because runners send it often. Creating, cancelling and restarting runs is :mod:`.runs`;
their states, :mod:`.states`.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import FlowRun, FlowRunLabel, TaskRun
from headrace.server.domain.auth import Principal
from headrace.server.domain.listing import (
    Columns,
    decode_cursor,
    encode_cursor,
    iso_key,
    like_prefix,
    parse_time,
)
from headrace.server.domain.states import CANCELLING, check_name
from headrace.server.errors import NotFoundError
from headrace.wire import FlowRunOut

__all__ = [
    "RUN_COLUMNS",
    "flow_run_heartbeat",
    "flow_runs_cursor",
    "list_flow_runs",
    "task_run_counts",
]

Order = Literal["newest", "oldest"]

#: Filters of the list that are a column equal to the value given, named as the column.
_EQUAL_FILTERS = ("flow_id", "flow_group_id", "project_id", "is_late", "agent_id")

#: The columns of a listed flow run: FlowRunOut's, without the counts only one run shows.
RUN_COLUMNS = Columns(
    cast(sa.Table, FlowRun.__table__),
    [n for n in FlowRunOut.model_fields if n != "task_run_counts"],
    {"task_run_counts": None},
)


def task_run_counts(session: Session, flow_run_id: str) -> dict[str, int]:
    """Task runs of a run by state name (mapped children included): the progress view."""
    rows = session.execute(
        sa.select(TaskRun.state, sa.func.count())
        .where(TaskRun.flow_run_id == flow_run_id)
        .group_by(TaskRun.state)
    )
    return {name: int(n) for name, n in rows}


def _cursor_kind(order: Order) -> str:
    return f"flow_runs:{order}"


def list_flow_runs(
    conn: sa.Connection,
    dialect: str,
    who: Principal,
    *,
    flow_id: str | None = None,
    flow_group_id: str | None = None,
    project_id: str | None = None,
    states: list[str] | None = None,
    label: str | None = None,
    is_late: bool | None = None,
    agent_id: str | None = None,
    id_prefix: str | None = None,
    order: Order = "newest",
    limit: int = 100,
    offset: int = 0,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """One page of the flow runs ``who`` may see, as JSON-ready rows: every given filter
    applies (``states`` matches any of them), ordered by scheduled start (``order``) then
    id, from ``cursor`` (a :func:`flow_runs_cursor`) and ``offset``."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if who.project_ids is not None:
        params["projects"] = sorted(who.project_ids)
    equal = (flow_id, flow_group_id, project_id, is_late, agent_id)
    params.update((k, v) for k, v in zip(_EQUAL_FILTERS, equal, strict=True) if v is not None)
    if states:
        for name in states:
            if name != CANCELLING:
                check_name(name, "state", cancelling=True)
        params["states"] = list(states)
    if id_prefix is not None:
        params["id_like"] = like_prefix(id_prefix.lower())
    if label is not None:
        params["label"] = label
    if cursor is not None:
        start_text, params["last_id"] = decode_cursor(cursor, _cursor_kind(order), (str, str))
        params["start"] = parse_time(start_text)
    return RUN_COLUMNS.rows(conn.execute(_runs_select(dialect, order, *params), params), dialect)


@functools.lru_cache(maxsize=256)
def _runs_select(dialect: str, order: Order, *given: str) -> sa.Select[Any]:
    """The list's statement for the parameters ``given`` (names of bound values), built
    once per combination: building and keying a statement costs more than running it."""
    q = RUN_COLUMNS.select(dialect)
    for name in given:
        if name in _EQUAL_FILTERS:
            q = q.where(getattr(FlowRun, name) == sa.bindparam(name))
    if "projects" in given:
        q = q.where(FlowRun.project_id.in_(sa.bindparam("projects", expanding=True)))
    if "states" in given:
        q = q.where(FlowRun.state.in_(sa.bindparam("states", expanding=True)))
    if "id_like" in given:
        q = q.where(FlowRun.id.like(sa.bindparam("id_like"), escape="\\"))
    if "label" in given:
        q = q.where(
            sa.exists().where(
                FlowRunLabel.flow_run_id == FlowRun.id, FlowRunLabel.label == sa.bindparam("label")
            )
        )
    if "start" in given:
        start = sa.bindparam("start", type_=FlowRun.scheduled_start.type)
        after = (
            FlowRun.scheduled_start < start
            if order == "newest"
            else FlowRun.scheduled_start > start
        )
        q = q.where(
            sa.or_(
                after,
                sa.and_(FlowRun.scheduled_start == start, FlowRun.id > sa.bindparam("last_id")),
            )
        )
    key = FlowRun.scheduled_start.desc() if order == "newest" else FlowRun.scheduled_start
    q = q.order_by(key, FlowRun.id)
    return q.limit(sa.bindparam("limit")).offset(sa.bindparam("offset"))


def flow_runs_cursor(order: Order, last: dict[str, Any]) -> str:
    """The cursor of the page after the one ending with row ``last``."""
    return encode_cursor(_cursor_kind(order), [iso_key(last["scheduled_start"]), last["id"]])


def flow_run_heartbeat(
    session: Session, who: Principal, flow_run_id: str, now: datetime
) -> tuple[str, int, int]:
    """Mark the run alive at ``now``; its ``(state, version, run_count)`` after, in one
    statement. :class:`NotFoundError` for a run ``who`` may not see."""
    row = session.execute(
        sa.update(FlowRun)
        .where(FlowRun.id == flow_run_id, who.scope(FlowRun.project_id))
        .values(heartbeat=now)
        .returning(FlowRun.state, FlowRun.version, FlowRun.run_count)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        raise NotFoundError(f"flow run {flow_run_id} not found")
    state, version, run_count = row
    return state, version, run_count
