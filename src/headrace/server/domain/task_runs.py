"""Task runs through the API: the keyset-paged list, the per-task summary, bulk creation
and one task run's state change.

The list reads only :class:`~headrace.wire.TaskRunOut`'s columns and pages by
``(task_slug, map_index)``, the order a chunk of mapped children is asked for in. The
summary counts each task's mapped children by state in one aggregate, so a 10,000-child
run summarizes in a few rows. Bulk creation leaves existing ``(slug, map_index)`` rows as
they are and returns them with the new ones. A single state change follows the same
rules as the batched report (:mod:`.report`): the version, the transition table, task-tag
concurrency limits on entering Running, and the attempt's start, end and count.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import TaskRun
from headrace.server.domain.listing import Columns, decode_cursor, encode_cursor
from headrace.server.domain.report import check_task_concurrency
from headrace.server.domain.runs import pending_task_run
from headrace.server.domain.states import FINISHED_NAMES, check_name, check_transition, write_state
from headrace.server.errors import VersionConflictError
from headrace.wire import StateIn, TaskRunIn, TaskRunOut, TaskSummaryOut

__all__ = [
    "TASK_RUN_COLUMNS",
    "create_task_runs",
    "list_task_runs",
    "set_task_run_state",
    "task_run_summary",
    "task_runs_cursor",
]

#: The columns of a listed task run: TaskRunOut's.
TASK_RUN_COLUMNS = Columns(cast(sa.Table, TaskRun.__table__), list(TaskRunOut.model_fields))


def list_task_runs(
    conn: sa.Connection,
    dialect: str,
    flow_run_id: str,
    *,
    task_slug: str | None = None,
    states: list[str] | None = None,
    include_children: bool = True,
    min_map_index: int | None = None,
    max_map_index: int | None = None,
    limit: int = 1000,
    offset: int = 0,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """One page of a flow run's task runs by slug then map index, as JSON-ready rows (the
    caller checked that the run is visible)."""
    params: dict[str, Any] = {"flow_run_id": flow_run_id, "limit": limit, "offset": offset}
    if task_slug is not None:
        params["task_slug"] = task_slug
    if states:
        for name in states:
            check_name(name, "state", cancelling=True)
        params["states"] = list(states)
    if not include_children:
        params["parents_only"] = -1
    if min_map_index is not None:
        params["min_map_index"] = min_map_index
    if max_map_index is not None:
        params["max_map_index"] = max_map_index
    if cursor is not None:
        params["after_slug"], params["after_index"] = decode_cursor(cursor, "task_runs", (str, int))
    stmt = _task_runs_select(dialect, *params)
    return TASK_RUN_COLUMNS.rows(conn.execute(stmt, params), dialect)


@functools.lru_cache(maxsize=128)
def _task_runs_select(dialect: str, *given: str) -> sa.Select[Any]:
    """The list's statement for the parameters ``given``, built once per combination."""
    q = TASK_RUN_COLUMNS.select(dialect).where(TaskRun.flow_run_id == sa.bindparam("flow_run_id"))
    if "task_slug" in given:
        q = q.where(TaskRun.task_slug == sa.bindparam("task_slug"))
    if "states" in given:
        q = q.where(TaskRun.state.in_(sa.bindparam("states", expanding=True)))
    if "parents_only" in given:
        q = q.where(TaskRun.map_index == sa.bindparam("parents_only"))
    if "min_map_index" in given:
        q = q.where(TaskRun.map_index >= sa.bindparam("min_map_index"))
    if "max_map_index" in given:
        q = q.where(TaskRun.map_index <= sa.bindparam("max_map_index"))
    if "after_slug" in given:
        slug = sa.bindparam("after_slug", type_=sa.String())
        q = q.where(
            sa.or_(
                TaskRun.task_slug > slug,
                sa.and_(TaskRun.task_slug == slug, TaskRun.map_index > sa.bindparam("after_index")),
            )
        )
    q = q.order_by(TaskRun.task_slug, TaskRun.map_index)
    return q.limit(sa.bindparam("limit")).offset(sa.bindparam("offset"))


def task_runs_cursor(last: dict[str, Any]) -> str:
    """The cursor of the page after the one ending with row ``last``."""
    return encode_cursor("task_runs", [last["task_slug"], last["map_index"]])


def task_run_summary(session: Session, flow_run_id: str) -> list[TaskSummaryOut]:
    """Per task slug: its own state and its mapped children counted by state."""
    parents = session.execute(
        sa.select(TaskRun.task_slug, TaskRun.task_name, TaskRun.state).where(
            TaskRun.flow_run_id == flow_run_id, TaskRun.map_index == -1
        )
    ).all()
    children = session.execute(
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


def create_task_runs(
    session: Session, flow_run_id: str, wanted_runs: Sequence[TaskRunIn], now: datetime
) -> list[TaskRun]:
    """Create the task runs of ``wanted_runs`` that do not exist yet (Pending, version 0);
    returns every wanted one, existing and new."""
    wanted = {(t.task_slug, t.map_index): t for t in wanted_runs}
    by_slug: dict[str, set[int]] = defaultdict(set)
    for slug, index in wanted:
        by_slug[slug].add(index)
    existing = {
        (r.task_slug, r.map_index)
        for r in session.scalars(
            sa.select(TaskRun).where(
                TaskRun.flow_run_id == flow_run_id, TaskRun.task_slug.in_(list(by_slug))
            )
        )
    }
    rows = [
        pending_task_run(flow_run_id, slug, idx, t.task_name or slug, sorted(set(t.tags)), now)
        for (slug, idx), t in wanted.items()
        if (slug, idx) not in existing
    ]
    if rows:
        session.execute(sa.insert(TaskRun), rows)
    out = session.scalars(
        sa.select(TaskRun).where(
            TaskRun.flow_run_id == flow_run_id, TaskRun.task_slug.in_(list(by_slug))
        )
    )
    return [t for t in out if (t.task_slug, t.map_index) in wanted]


def set_task_run_state(
    session: Session,
    row: TaskRun,
    state: StateIn,
    *,
    expected_version: int | None,
    now: datetime,
) -> int:
    """Move task run ``row`` to ``state`` (locked first; checked like a report's change);
    returns its new version."""
    session.refresh(row, with_for_update=True)
    new = state.name
    if expected_version is not None and expected_version != row.version:
        raise VersionConflictError(
            f"task run {row.id} is at version {row.version}, not {expected_version}"
        )
    check_transition(row.state, new, f"task run {row.task_slug}[{row.map_index}]")
    if new == "Running" and row.state != "Running":
        check_task_concurrency(session, row.tags)
    values: dict[str, Any] = {
        "state": new,
        "state_message": state.message,
        "state_serialized": state.serialized,
        "state_timestamp": state.timestamp or now,
        "version": row.version + 1,
        "end_time": (state.timestamp or now) if new in FINISHED_NAMES else None,
    }
    if new == "Running" and row.state != "Running":
        values["run_count"] = row.run_count + 1
        if row.start_time is None:
            values["start_time"] = state.timestamp or now
    what = f"task run {row.id}"
    write_state(session, row, values, message=state.message, serialized=state.serialized, what=what)
    return row.version + 1
