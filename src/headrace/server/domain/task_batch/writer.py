"""Writing a batch back: task runs that did not exist yet are created in their final state
by one bulk INSERT, existing ones that changed get one bulk UPDATE with their final state
(a child's Running and Success in one batch are one row write), and every accepted change
not kept in its row (:mod:`headrace.server.domain.history`) gets its own history row in one bulk
INSERT.

The statements are compiled once per dialect and run as executemany on the driver's cursor
with the columns' own bind processors (what SQLAlchemy would do per row, without an ORM
object or per-row statement machinery). On PostgreSQL the inserts are a COPY and the
update one statement over arrays (:mod:`.postgres`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from headrace.server.db.models import StateRecord, UTCDateTime
from headrace.server.domain.task_batch.binds import (
    as_datetime,
    json_text,
    postgres_text,
    sqlite_text,
)
from headrace.server.domain.task_batch.postgres import copy_rows, update_rows
from headrace.server.domain.task_batch.rows import TASK_RUNS as T
from headrace.server.domain.task_batch.rows import Row

__all__ = ["HISTORY_COLUMNS", "write_rows"]

HISTORY = cast(sa.Table, StateRecord.__table__)
NEW_COLUMNS = (  # the table's order, which the compiled INSERT follows
    "id",
    "flow_run_id",
    "task_slug",
    "task_name",
    "map_index",
    "tags",
    "state",
    "state_message",
    "state_serialized",
    "state_timestamp",
    "version",
    "created",
    "start_time",
    "end_time",
    "run_count",
    "history_in_row",
)
UPDATE_COLUMNS = (
    "state",
    "state_message",
    "state_serialized",
    "state_timestamp",
    "version",
    "start_time",
    "end_time",
    "run_count",
    "history_in_row",
)
HISTORY_COLUMNS = (
    "flow_run_id",
    "task_run_id",
    "name",
    "message",
    "serialized",
    "timestamp",
    "version",
)


def _processor(
    column: sa.Column[Any], dialect: Dialect, copy: bool = False
) -> Callable[[Any], Any] | None:
    if isinstance(column.type, UTCDateTime):
        if dialect.name == "sqlite":
            return sqlite_text  # Unix seconds or a datetime, as UTCDateTime stores them
        if copy:
            return postgres_text  # COPY reads the text; no datetime per value
        base = column.type.dialect_impl(dialect).bind_processor(dialect)
        if base is None:
            return as_datetime
        return lambda value: base(as_datetime(value))
    if isinstance(column.type, sa.Boolean) and dialect.name == "sqlite":
        return None  # the driver binds True and False as 1 and 0, as the type's processor
    if isinstance(column.type, sa.JSON) and (copy or dialect.name == "sqlite"):
        return json_text  # SQLite and COPY read JSON columns from their text
    return cast(
        "Callable[[Any], Any] | None", column.type.dialect_impl(dialect).bind_processor(dialect)
    )


class _Bulk:
    """One statement compiled for a dialect, run as executemany on the driver cursor with
    each column's bind processor applied to the values (what SQLAlchemy would do per row).
    Rows are lists in ``names`` order; ``columns`` says which table column each one binds."""

    __slots__ = ("copy", "named", "names", "order", "processors", "sql")

    def __init__(
        self,
        statement: Any,
        table: sa.Table,
        names: Sequence[str],
        columns: Sequence[str],
        dialect: Dialect,
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        # PostgreSQL inserts go through COPY: one stream instead of a statement per row
        self.copy = None
        if dialect.driver == "psycopg" and isinstance(statement, sa.Insert):
            self.copy = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        self.names = list(names)
        self.named = not compiled.positional
        order = [self.names.index(n) for n in compiled.positiontup or ()]
        self.order = None if self.named or order == list(range(len(names))) else order
        self.processors = [
            (i, proc)
            for i, column in enumerate(columns)
            if (proc := _processor(table.c[column], dialect, self.copy is not None)) is not None
        ]

    def run(self, session: Session, rows: list[list[Any]], memo: dict[int, Any]) -> None:
        """``memo``: bound values by ``id()`` of the value, shared by the statements of one
        batch (the same tag list, ``now``, or a change's timestamp in history and row); the
        values it maps must stay alive while it is used."""
        for i, proc in self.processors:
            for row in rows:
                value = row[i]
                if value is not None:
                    key = id(value)
                    done = memo.get(key)
                    if done is None:
                        done = memo[key] = proc(value)
                    row[i] = done
        if self.copy is not None:
            copy_rows(session, self.copy, rows)
            return
        params: Any
        if self.named:
            params = [dict(zip(self.names, row, strict=True)) for row in rows]
        elif self.order is not None:
            params = [tuple([row[j] for j in self.order]) for row in rows]
        else:
            params = list(map(tuple, rows))
        session.connection().exec_driver_sql(self.sql, params)


_BULK: dict[tuple[str, str, str], _Bulk] = {}


def _bulk(kind: str, dialect: Dialect) -> _Bulk:
    key = (kind, dialect.name, dialect.driver)
    found = _BULK.get(key)
    if found is not None:
        return found
    if kind == "insert":
        stmt: Any = sa.insert(T).values({c: sa.bindparam(c) for c in NEW_COLUMNS})
        made = _Bulk(stmt, T, NEW_COLUMNS, NEW_COLUMNS, dialect)
    elif kind == "update":
        stmt = (
            sa.update(T)
            .where(T.c.id == sa.bindparam("b_id"))
            .values({c: sa.bindparam("b_" + c) for c in UPDATE_COLUMNS})
        )
        columns = [*UPDATE_COLUMNS, "id"]
        made = _Bulk(stmt, T, ["b_" + c for c in columns], columns, dialect)
    else:
        stmt = sa.insert(HISTORY).values({c: sa.bindparam(c) for c in HISTORY_COLUMNS})
        made = _Bulk(stmt, HISTORY, HISTORY_COLUMNS, HISTORY_COLUMNS, dialect)
    _BULK[key] = made
    return made


def write_rows(
    session: Session,
    flow_run_id: str,
    rows: Collection[Row],
    history: list[list[Any]],
    now: datetime,
) -> None:
    """Create the new ``rows``, update the changed ones, insert ``history`` (rows in
    ``HISTORY_COLUMNS`` order), each in bulk."""
    dialect = session.get_bind().dialect
    memo: dict[int, Any] = {}  # JSON and timestamps bind the same on every table
    new = [
        [
            r.id,
            flow_run_id,
            r.key[0],
            r.task_name,
            r.key[1],
            r.tags,
            r.state,
            r.message,
            r.serialized,
            now if r.timestamp is None else r.timestamp,
            r.version,
            now,
            r.start,
            r.end,
            r.runs,
            r.in_row,
        ]
        for r in rows
        if r.new
    ]
    if new:
        _bulk("insert", dialect).run(session, new, memo)
    changed = [
        [
            r.state,
            r.message,
            r.serialized,
            r.timestamp,
            r.version,
            r.start,
            r.end,
            r.runs,
            r.in_row,
            r.id,
        ]
        for r in rows
        if r.changed and not r.new
    ]
    if changed and dialect.driver == "psycopg":
        update_rows(session, changed)
    elif changed:
        _bulk("update", dialect).run(session, changed, memo)
    if history:
        _bulk("history", dialect).run(session, history, memo)
