"""The state history of task runs, kept in two forms: rows of ``states`` and, for mapped
children that had nothing but a plain life, the task run's own columns.

Which changes get no history row (decided per change, in :mod:`headrace.server.domain.task_batch`):
a mapped child (``map_index`` >= 0) created by a report keeps ``history_in_row`` True, and
writes no ``states`` row, for as long as every change it gets is one of

- ``Running`` from version 0 with the runner's usual message :data:`RUNNING_MESSAGE` and no
  serialized form (kept as ``start_time``, version 1), then
- one success kind (``Success``, ``Cached``, ``Mapped``, ``Skipped``...) from there or from
  version 0 (kept as the row's state, message, serialized form and ``state_timestamp``).

Any other change (a retry, a failure, a cancel, a restart's reset, another message...)
first *materializes* the row: the states its columns stand for are written to ``states``
(:func:`materialize`, or in memory by the batch), ``history_in_row`` becomes False, and from
then on every change has its history row as before. So children that retried, failed or
were cancelled have a full history in ``states``; the plain ones, typically 10,000 of a
10,000-child map, cost one row each instead of three. No acknowledged state is lost: the
columns say exactly what the rows would, and readers (:func:`task_run_history`,
:func:`flow_run_history`) give both forms back alike. A record read from the columns has
``id`` 0 (it has no row of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import StateRecord, TaskRun

__all__ = [
    "RUNNING_MESSAGE",
    "HistoryRecord",
    "flow_run_history",
    "in_row_records",
    "materialize",
    "task_run_history",
]

#: The message of the ``Running`` state the engine gives every attempt it starts; only a
#: ``Running`` with exactly this message (and no serialized form) is kept in the row.
RUNNING_MESSAGE = "Starting task run."

T = cast(sa.Table, TaskRun.__table__)
S = cast(sa.Table, StateRecord.__table__)
_COLUMNS = ["flow_run_id", "task_run_id", "name", "message", "serialized", "timestamp", "version"]


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One state of a history, whichever form it is stored in (``id`` 0: in the row)."""

    id: int
    flow_run_id: str
    task_run_id: str | None
    name: str
    message: str | None
    serialized: dict[str, Any] | None
    timestamp: datetime
    version: int


def in_row_records(row: Any) -> list[HistoryRecord]:
    """The states a task run kept in its columns stands for (empty unless
    ``history_in_row``): its ``Running`` at ``start_time`` (version 1) if it has one, and
    its final state if it has reached one. ``row``: a :class:`TaskRun` or a result row
    with the same column names."""
    if not row.history_in_row:
        return []
    out = []
    if row.start_time is not None:
        out.append(
            HistoryRecord(0, row.flow_run_id, row.id, "Running", RUNNING_MESSAGE, None,
                          row.start_time, 1)
        )  # fmt: skip
    if row.version >= 1 and not (row.version == 1 and row.start_time is not None):
        out.append(
            HistoryRecord(
                0,
                row.flow_run_id,
                row.id,
                row.state,
                row.state_message,
                row.state_serialized,
                row.state_timestamp,
                row.version,
            )
        )
    return out


def materialize(session: Session, where: Any, mark: bool = True) -> None:
    """Write the history rows of the task runs matching ``where`` (a condition on
    ``task_runs``) that keep their history in their columns, and mark them as not doing
    so any more (unless ``mark`` is False: the caller's own UPDATE of the same rows sets
    ``history_in_row`` False): run before any change that is not kept in the row."""
    kept = sa.and_(where, T.c.history_in_row.is_(True))
    running = sa.select(
        T.c.flow_run_id,
        T.c.id,
        sa.literal("Running"),
        sa.literal(RUNNING_MESSAGE),
        sa.null(),
        T.c.start_time,
        sa.literal(1),
    ).where(kept, T.c.start_time.is_not(None))
    final = sa.select(
        T.c.flow_run_id,
        T.c.id,
        T.c.state,
        T.c.state_message,
        T.c.state_serialized,
        T.c.state_timestamp,
        T.c.version,
    ).where(
        kept,
        T.c.version >= 1,
        sa.not_(sa.and_(T.c.version == 1, T.c.start_time.is_not(None))),
    )
    # one statement: each row's Running (first part) is written before its final state
    session.execute(sa.insert(S).from_select(_COLUMNS, sa.union_all(running, final)))
    if not mark:
        return
    session.execute(
        sa.update(T)
        .where(kept)
        .values(history_in_row=False)
        .execution_options(synchronize_session=False)
    )


def task_run_history(session: Session, task_run: TaskRun) -> list[HistoryRecord]:
    """Every state of ``task_run``, oldest first."""
    if task_run.history_in_row:
        return in_row_records(task_run)
    rows = session.execute(
        sa.select(S).where(S.c.task_run_id == task_run.id).order_by(S.c.id)
    ).all()
    return [HistoryRecord(**r._mapping) for r in rows]


def flow_run_history(
    session: Session, flow_run_id: str, task_runs: bool, limit: int, offset: int
) -> list[HistoryRecord]:
    """A page of the state history of a flow run (with its task runs' when ``task_runs``).

    Without task runs: the flow run's own records in the order they were written. With
    them: rows and in-row states together by timestamp (then the order written, then the
    task run and version), so a page is stable however the states are stored."""
    own = sa.select(S).where(S.c.flow_run_id == flow_run_id)
    if not task_runs:
        q = own.where(S.c.task_run_id.is_(None)).order_by(S.c.id).limit(limit).offset(offset)
        return [HistoryRecord(**r._mapping) for r in session.execute(q).all()]
    kept = sa.and_(T.c.flow_run_id == flow_run_id, T.c.history_in_row.is_(True))
    zero = sa.literal(0, sa.Integer)
    running = sa.select(
        zero.label("id"),
        T.c.flow_run_id,
        T.c.id.label("task_run_id"),
        sa.literal("Running").label("name"),
        sa.literal(RUNNING_MESSAGE).label("message"),
        sa.null().label("serialized"),
        T.c.start_time.label("timestamp"),
        sa.literal(1, sa.Integer).label("version"),
    ).where(kept, T.c.start_time.is_not(None))
    final = sa.select(
        zero.label("id"),
        T.c.flow_run_id,
        T.c.id.label("task_run_id"),
        T.c.state.label("name"),
        T.c.state_message.label("message"),
        T.c.state_serialized.label("serialized"),
        T.c.state_timestamp.label("timestamp"),
        T.c.version.label("version"),
    ).where(
        kept,
        T.c.version >= 1,
        sa.not_(sa.and_(T.c.version == 1, T.c.start_time.is_not(None))),
    )
    rows = sa.select(
        S.c.id,
        S.c.flow_run_id,
        S.c.task_run_id,
        S.c.name,
        S.c.message,
        S.c.serialized,
        S.c.timestamp,
        S.c.version,
    ).where(S.c.flow_run_id == flow_run_id)
    union = sa.union_all(rows, running, final).subquery("history")
    q = (
        sa.select(
            union.c.id,
            union.c.flow_run_id,
            union.c.task_run_id,
            union.c.name,
            union.c.message,
            sa.type_coerce(union.c.serialized, sa.JSON).label("serialized"),
            sa.type_coerce(union.c.timestamp, S.c.timestamp.type).label("timestamp"),
            union.c.version,
        )
        .order_by(union.c.timestamp, union.c.id, union.c.task_run_id, union.c.version)
        .limit(limit)
        .offset(offset)
    )
    return [HistoryRecord(**r._mapping) for r in session.execute(q).all()]
