"""Applying many task-run state changes of one flow run at once, in memory, then writing
them with a few bulk statements (this is what makes a 10,000-child map cheap to report).

Rows mentioned by the batch are read with one query per task (the span of map indexes the
batch names, locked ``FOR UPDATE`` on PostgreSQL). Each change is checked exactly as a
single state change would be (version, the cached transition table, task-tag concurrency
limits) in a tight loop over plain objects. Then: task runs that did not exist yet (mapped
children) are created in their final state by one executemany INSERT; existing rows get one
executemany UPDATE with their final state (a child's Running and Success in one batch are
one row write); every accepted change gets its own history row, with its own timestamp and
version, in one executemany INSERT (a COPY on PostgreSQL). The bulk statements are compiled
once per dialect and run on the driver's cursor with the columns' own bind processors, so
no ORM object or per-row statement machinery is involved.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from headrace.server.errors import ConcurrencyLimitError
from headrace.server.models import ConcurrencyLimit, StateRecord, TaskRun, UTCDateTime
from headrace.server.schemas import TaskStateChange, TaskStatesIn
from headrace.server.states import CANCELLING, STATE_NAMES, transition_problem

__all__ = ["CHUNK", "Change", "Key", "TaskRunBatch", "changes_of", "fast_id", "task_run_ids"]

Key = tuple[str, int]
CHUNK = 400
T = cast(sa.Table, TaskRun.__table__)
HISTORY = cast(sa.Table, StateRecord.__table__)
COLUMNS = (
    T.c.id,
    T.c.task_slug,
    T.c.map_index,
    T.c.task_name,
    sa.type_coerce(T.c.tags, sa.Text).label("tags"),  # decoded only if a limit needs them
    T.c.state,
    T.c.version,
)
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
)
UPDATE_COLUMNS = ("state", "state_message", "state_serialized", "state_timestamp", "version")
HISTORY_COLUMNS = (
    "flow_run_id",
    "task_run_id",
    "name",
    "message",
    "serialized",
    "timestamp",
    "version",
)
Outcome = dict[str, Any]


class _Row:
    __slots__ = (
        "changed",
        "id",
        "key",
        "message",
        "new",
        "serialized",
        "state",
        "tags",
        "task_name",
        "timestamp",
        "version",
    )

    def __init__(
        self, ident: str, key: Key, task_name: str, tags: Any, state: str, version: int, new: bool
    ) -> None:
        self.id, self.key, self.task_name, self.tags = ident, key, task_name, tags
        self.state, self.version, self.new, self.changed = state, version, new, False
        self.message: str | None = None
        self.serialized: dict[str, Any] | None = None
        self.timestamp: datetime | None = None

    def tag_list(self) -> list[str]:
        if isinstance(self.tags, str):  # raw JSON text from SQLite
            self.tags = json.loads(self.tags)
        return list(self.tags or [])


def _sqlite_timestamp(value: datetime) -> str:
    """What ``UTCDateTime`` binds on SQLite (naive UTC text), without its generic layers."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _processor(
    column: sa.Column[Any], dialect: Dialect, copy: bool = False
) -> Callable[[Any], Any] | None:
    if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
        return _sqlite_timestamp
    if copy and isinstance(column.type, sa.JSON):
        return _json_text  # COPY reads JSON columns from their text
    return cast(
        "Callable[[Any], Any] | None", column.type.dialect_impl(dialect).bind_processor(dialect)
    )


def _json_text(value: Any) -> str:
    return json.dumps(value)


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
        # (psycopg's executemany spends ~40 us of Python per row, COPY a few)
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
            driver = session.connection().connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(self.copy) as stream:  # type: ignore[union-attr]
                for row in rows:
                    stream.write_row(row)
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


_PG_UPDATE = (
    "UPDATE task_runs AS t SET state = v.state, state_message = v.message, "
    "state_serialized = v.serialized::json, state_timestamp = v.stamp, version = v.version "
    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::int[], %s::text[]) "
    "AS v(state, message, serialized, stamp, version, id) WHERE t.id = v.id"
)


def _pg_update(session: Session, rows: list[list[Any]], dialect: Dialect) -> None:
    """The executemany UPDATE as one statement over arrays (psycopg runs executemany as a
    statement per row, ~40 us of Python each): rows in ``UPDATE_COLUMNS`` + id order."""
    stamp = UTCDateTime().process_bind_param
    columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)]
    columns[2] = [None if v is None else json.dumps(v) for v in columns[2]]
    columns[3] = [stamp(v, dialect) for v in columns[3]]
    session.connection().exec_driver_sql(_PG_UPDATE, tuple(columns))


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


class Change:
    """One task-run state change as the batch applies it, from either report form."""

    __slots__ = (
        "map_index",
        "message",
        "name",
        "serialized",
        "tags",
        "task_name",
        "task_slug",
        "timestamp",
        "version",
    )

    def __init__(
        self,
        task_slug: str,
        map_index: int,
        name: str,
        timestamp: datetime | None,
        message: str | None = None,
        serialized: dict[str, Any] | None = None,
        version: int | None = None,
        task_name: str | None = None,
        tags: list[str] | None = None,
    ) -> None:
        self.task_slug, self.map_index, self.name, self.timestamp = (
            task_slug,
            map_index,
            name,
            timestamp,
        )
        self.message, self.serialized, self.version = message, serialized, version
        self.task_name, self.tags = task_name, tags


def changes_of(task_runs: Sequence[TaskStateChange], compact: TaskStatesIn | None) -> list[Change]:
    """The changes of a report in the order they apply: ``task_runs``, then the compact rows."""
    out = [
        Change(
            c.task_slug,
            c.map_index,
            c.state.name,
            c.state.timestamp,
            c.state.message,
            c.state.serialized,
            c.version,
            c.task_name,
            c.tags,
        )
        for c in task_runs
    ]
    if compact is not None:
        tasks = [(t.task_slug, t.task_name, t.tags) for t in compact.tasks]
        for task, index, name, timestamp, message, serialized, version in compact.rows:
            slug, task_name, tags = tasks[task]
            out.append(
                Change(slug, index, name, timestamp, message, serialized, version, task_name, tags)
            )
    return out


def fast_id() -> str:
    """A random (version 4) UUID string like :func:`~headrace.server.models.new_id`, made
    without a ``uuid.UUID`` object (a map creates thousands of task runs at once)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _select(session: Session, flow_run_id: str, keys: list[Key], lock: bool) -> list[Any]:
    """Rows of ``keys``: per task slug, one range query when the indexes are dense enough
    (a batch of a map names a run of consecutive children), else chunks of ``IN``."""
    by_slug: dict[str, set[int]] = {}
    for slug, index in keys:
        by_slug.setdefault(slug, set()).add(index)
    rows: list[Any] = []
    base = sa.select(*COLUMNS).where(T.c.flow_run_id == flow_run_id)
    for slug, indexes in by_slug.items():
        low, high = min(indexes), max(indexes)
        queries = []
        if high - low < max(64, 2 * len(indexes)):
            queries.append(base.where(T.c.task_slug == slug, T.c.map_index.between(low, high)))
        else:
            ordered = sorted(indexes)
            for i in range(0, len(ordered), CHUNK):
                part = ordered[i : i + CHUNK]
                queries.append(base.where(T.c.task_slug == slug, T.c.map_index.in_(part)))
        for query in queries:
            found = session.execute(query.with_for_update() if lock else query).all()
            rows.extend(r for r in found if r.map_index in indexes)
    return rows


def task_run_ids(session: Session, flow_run_id: str, keys: list[Key]) -> dict[Key, str]:
    return {(r.task_slug, r.map_index): r.id for r in _select(session, flow_run_id, keys, False)}


class TaskRunBatch:
    """The task runs one report touches, loaded once and written back in bulk."""

    def __init__(self, session: Session, flow_run_id: str, now: datetime) -> None:
        self.session, self.flow_run_id, self.now = session, flow_run_id, now
        self.rows: dict[Key, _Row] = {}
        self.history: list[list[Any]] = []  # rows in HISTORY_COLUMNS order
        self._limits: dict[str, int] | None = None
        self._running_elsewhere: dict[str, int] = {}

    def load(self, changes: Sequence[Change]) -> None:
        keys = list(dict.fromkeys((c.task_slug, c.map_index) for c in changes))
        for r in _select(self.session, self.flow_run_id, keys, True):
            key = (r.task_slug, r.map_index)
            tags = [] if r.tags in (None, "[]") else r.tags
            self.rows[key] = _Row(r.id, key, r.task_name, tags, r.state, r.version, False)
        missing: dict[Key, Change] = {}
        for change in changes:
            key = (change.task_slug, change.map_index)
            if key not in self.rows and key not in missing:
                missing[key] = change
        if not missing:
            return
        parent_keys = list({(slug, -1) for slug, _ in missing})
        parents = {
            r.task_slug: r for r in _select(self.session, self.flow_run_id, parent_keys, False)
        }
        shared: dict[str, list[str]] = {}  # one tag list per parent, not one per child
        for key, change in missing.items():
            parent = parents.get(key[0])
            if change.tags is not None:
                tags = sorted(change.tags)
            elif parent is None:
                tags = []
            else:
                if key[0] not in shared:
                    shared[key[0]] = sorted(_Row("", key, "", parent.tags, "", 0, False).tag_list())
                tags = shared[key[0]]
            name = change.task_name or (parent.task_name if parent else key[0])
            self.rows[key] = _Row(fast_id(), key, name, tags, "Pending", 0, True)

    def _check_limits(self, row: _Row) -> None:
        if self._limits is None:
            self._limits = {
                lim.name: lim.limit
                for lim in self.session.scalars(
                    sa.select(ConcurrencyLimit)
                    .where(ConcurrencyLimit.kind == "task_tag")
                    .with_for_update()
                )
            }
        for tag in row.tag_list():
            if tag not in self._limits:
                continue
            if tag not in self._running_elsewhere:
                batch_ids = {r.id for r in self.rows.values() if not r.new}
                running = self.session.execute(
                    sa.select(T.c.id, T.c.tags).where(T.c.state == "Running")
                )
                self._running_elsewhere[tag] = sum(
                    tag in (other or []) for ident, other in running if ident not in batch_ids
                )
            here = sum(r.state == "Running" and tag in r.tag_list() for r in self.rows.values())
            active = self._running_elsewhere[tag] + here
            if active + 1 > self._limits[tag]:
                raise ConcurrencyLimitError(
                    f"concurrency limit of task tag {tag!r} reached ({active}/{self._limits[tag]})"
                )

    def apply(self, change: Change, echo: bool = True) -> Outcome | None:
        """Apply one change in memory. Returns its outcome for the answer (a
        ``TaskStateResult`` as a dict); None for an applied change when ``echo`` is False."""
        row = self.rows[(change.task_slug, change.map_index)]
        new = change.name
        if change.version is not None and change.version != row.version:
            if row.version == change.version + 1 and row.state == new:
                return self._outcome(row, "duplicate")
            detail = f"task run is at version {row.version}, not {change.version}"
            return self._outcome(row, "conflict", detail)
        what = f"task run {row.key[0]}[{row.key[1]}]"
        if new not in STATE_NAMES and new != CANCELLING:
            return self._outcome(row, "rejected", f"state.name: unknown state {new!r}")
        problem = transition_problem(row.state, new)
        if problem is not None:
            return self._outcome(row, "rejected", what + problem)
        if new == "Running" and row.state != "Running" and row.tags:
            try:
                self._check_limits(row)
            except ConcurrencyLimitError as exc:
                return self._outcome(row, "rejected", exc.message)
        row.state, row.message, row.serialized = new, change.message, change.serialized
        row.timestamp = change.timestamp or self.now
        row.version += 1
        row.changed = True
        self.history.append(
            [self.flow_run_id, row.id, new, row.message, row.serialized, row.timestamp, row.version]
        )
        return self._outcome(row, "applied") if echo else None

    @staticmethod
    def _outcome(row: _Row, status: str, detail: str | None = None) -> Outcome:
        return {
            "task_slug": row.key[0],
            "map_index": row.key[1],
            "task_run_id": row.id,
            "status": status,
            "state": row.state,
            "version": row.version,
            "detail": detail,
        }

    def write(self) -> None:
        dialect = self.session.get_bind().dialect
        run, now = self.flow_run_id, self.now
        memo: dict[int, Any] = {}  # JSON and timestamps bind the same on every table
        new = [
            [
                r.id,
                run,
                r.key[0],
                r.task_name,
                r.key[1],
                r.tags,
                r.state,
                r.message,
                r.serialized,
                r.timestamp or now,
                r.version,
                now,
            ]
            for r in self.rows.values()
            if r.new
        ]
        if new:
            _bulk("insert", dialect).run(self.session, new, memo)
        changed = [
            [r.state, r.message, r.serialized, r.timestamp, r.version, r.id]
            for r in self.rows.values()
            if r.changed and not r.new
        ]
        if changed and dialect.driver == "psycopg":
            _pg_update(self.session, changed, dialect)
        elif changed:
            _bulk("update", dialect).run(self.session, changed, memo)
        if self.history:
            _bulk("history", dialect).run(self.session, self.history, memo)

    def ids(self) -> dict[Key, str]:
        """Task run ids of the rows this batch knows (created or not)."""
        return {key: row.id for key, row in self.rows.items()}
