"""Moving every task run of one flow run that matches a condition to one state at once.

A restart resets the task runs that did not succeed, a cancelled run cancels the ones that
had not finished, the reaper fails the ones a lost runner left running: each is one sweep
over what may be thousands of mapped children, so it is done in bulk SQL, not a statement
per row. Each moved row gets its version bumped and its own row in the state history.

On PostgreSQL the UPDATE and the history INSERT are one statement (the UPDATE ... RETURNING
feeds the INSERT), so a row changed concurrently is either moved and recorded or left
alone. On SQLite every write transaction holds the database's write lock from its start
(``BEGIN IMMEDIATE``), so an INSERT ... SELECT followed by the UPDATE sees the same rows.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.database import rowcount
from headrace.server.db.models import StateRecord, TaskRun
from headrace.server.domain.history import materialize

__all__ = ["sweep_task_runs"]

_HISTORY_COLUMNS = ["flow_run_id", "task_run_id", "name", "message", "timestamp", "version"]


def sweep_task_runs(
    session: Session,
    flow_run_id: str,
    from_states: Collection[str],
    to_state: str,
    message: str,
    now: datetime,
) -> int:
    """Move every task run of ``flow_run_id`` whose state is in ``from_states`` to
    ``to_state`` with ``message`` (state serialized form cleared, version + 1, one history
    row each). The caller has checked that each of ``from_states`` may go to ``to_state``.
    Moving to ``Pending`` (a restart's reset) clears ``end_time``; any other ``to_state`` is
    final and sets it. Rows whose history was kept in the row get it written out first.
    Returns how many task runs moved."""
    if not from_states:
        return 0
    matching = sa.and_(TaskRun.flow_run_id == flow_run_id, TaskRun.state.in_(list(from_states)))
    materialize(session, matching, mark=False)  # the UPDATE below clears history_in_row
    stamp = sa.literal(now, StateRecord.timestamp.type)
    values: dict[str, Any] = {
        "state": to_state,
        "state_message": message,
        "state_serialized": None,
        "state_timestamp": now,
        "version": TaskRun.version + 1,
        "end_time": None if to_state == "Pending" else now,
        "history_in_row": False,
    }
    if session.get_bind().dialect.name == "postgresql":
        moved = (
            sa.update(TaskRun)
            .where(matching)
            .values(values)
            .returning(TaskRun.flow_run_id, TaskRun.id, TaskRun.version)
            .cte("moved")
        )
        history = sa.select(
            moved.c.flow_run_id,
            moved.c.id,
            sa.literal(to_state),
            sa.literal(message),
            stamp,
            moved.c.version,
        )
        recorded = (
            sa.insert(StateRecord)
            .from_select(_HISTORY_COLUMNS, history)
            .returning(StateRecord.id)
            .cte("recorded")
        )
        return int(session.scalar(sa.select(sa.func.count()).select_from(recorded)) or 0)
    history = sa.select(
        TaskRun.flow_run_id,
        TaskRun.id,
        sa.literal(to_state),
        sa.literal(message),
        stamp,
        TaskRun.version + 1,
    ).where(matching)
    session.execute(sa.insert(StateRecord).from_select(_HISTORY_COLUMNS, history))
    result = session.execute(
        sa.update(TaskRun)
        .where(matching)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
