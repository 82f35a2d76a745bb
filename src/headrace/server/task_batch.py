"""Applying many task-run state changes of one flow run at once, in memory, then writing
them with a few bulk statements (this is what makes a 10,000-child map cheap to report).

Rows mentioned by the batch are read once (locked ``FOR UPDATE`` on PostgreSQL); task runs
that do not exist yet (mapped children) are created in their final state by one bulk
INSERT instead of an insert followed by updates; existing rows get one executemany UPDATE;
the history gets one bulk INSERT. Each change is checked exactly as a single state change
would be: version, transition table, task-tag concurrency limits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.errors import ConcurrencyLimitError, ServerError
from headrace.server.models import ConcurrencyLimit, StateRecord, TaskRun, new_id
from headrace.server.schemas import TaskStateChange, TaskStateResult
from headrace.server.states import check_transition

__all__ = ["CHUNK", "Key", "TaskRunBatch", "task_run_ids"]

Key = tuple[str, int]
CHUNK = 400
T = cast(sa.Table, TaskRun.__table__)
HISTORY = cast(sa.Table, StateRecord.__table__)
COLUMNS = (T.c.id, T.c.task_slug, T.c.map_index, T.c.task_name, T.c.tags, T.c.state, T.c.version)


class _Row:
    __slots__ = (
        "changed",
        "id",
        "key",
        "message",
        "new",
        "original_state",
        "serialized",
        "state",
        "tags",
        "task_name",
        "timestamp",
        "version",
    )

    def __init__(
        self,
        ident: str,
        key: Key,
        task_name: str,
        tags: list[str],
        state: str,
        version: int,
        new: bool,
    ) -> None:
        self.id, self.key, self.task_name, self.tags = ident, key, task_name, tags
        self.state = self.original_state = state
        self.version, self.new, self.changed = version, new, False
        self.message: str | None = None
        self.serialized: dict[str, Any] | None = None
        self.timestamp: datetime | None = None


def _select(session: Session, flow_run_id: str, keys: list[Key], lock: bool) -> list[Any]:
    rows: list[Any] = []
    for i in range(0, len(keys), CHUNK):
        query = sa.select(*COLUMNS).where(
            T.c.flow_run_id == flow_run_id,
            sa.tuple_(T.c.task_slug, T.c.map_index).in_(keys[i : i + CHUNK]),
        )
        rows.extend(session.execute(query.with_for_update() if lock else query))
    return rows


def task_run_ids(session: Session, flow_run_id: str, keys: list[Key]) -> dict[Key, str]:
    return {(r.task_slug, r.map_index): r.id for r in _select(session, flow_run_id, keys, False)}


class TaskRunBatch:
    """The task runs one report touches, loaded once and written back in bulk."""

    def __init__(self, session: Session, flow_run_id: str, now: datetime) -> None:
        self.session, self.flow_run_id, self.now = session, flow_run_id, now
        self.rows: dict[Key, _Row] = {}
        self.history: list[dict[str, Any]] = []
        self._limits: dict[str, int] | None = None
        self._running_elsewhere: dict[str, int] = {}

    def load(self, changes: list[TaskStateChange]) -> None:
        keys = list(dict.fromkeys((c.task_slug, c.map_index) for c in changes))
        for r in _select(self.session, self.flow_run_id, keys, True):
            key = (r.task_slug, r.map_index)
            self.rows[key] = _Row(
                r.id, key, r.task_name, list(r.tags or []), r.state, r.version, False
            )
        missing = {}
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
        for key, change in missing.items():
            parent = parents.get(key[0])
            tags = change.tags if change.tags is not None else (parent.tags if parent else [])
            name = change.task_name or (parent.task_name if parent else key[0])
            self.rows[key] = _Row(new_id(), key, name, sorted(tags or []), "Pending", 0, True)

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
        for tag in row.tags:
            if tag not in self._limits:
                continue
            if tag not in self._running_elsewhere:
                batch_ids = {r.id for r in self.rows.values() if not r.new}
                running = self.session.execute(
                    sa.select(T.c.id, T.c.tags).where(T.c.state == "Running")
                )
                self._running_elsewhere[tag] = sum(
                    tag in (tags or []) for ident, tags in running if ident not in batch_ids
                )
            here = sum(r.state == "Running" and tag in r.tags for r in self.rows.values())
            active = self._running_elsewhere[tag] + here
            if active + 1 > self._limits[tag]:
                raise ConcurrencyLimitError(
                    f"concurrency limit of task tag {tag!r} reached ({active}/{self._limits[tag]})"
                )

    def apply(self, change: TaskStateChange) -> TaskStateResult:
        row = self.rows[(change.task_slug, change.map_index)]

        def result(status: Any, detail: str | None = None) -> TaskStateResult:
            return TaskStateResult(
                task_slug=row.key[0],
                map_index=row.key[1],
                task_run_id=row.id,
                status=status,
                state=row.state,
                version=row.version,
                detail=detail,
            )

        new = change.state.name
        if change.version is not None and change.version != row.version:
            if row.version == change.version + 1 and row.state == new:
                return result("duplicate")
            return result("conflict", f"task run is at version {row.version}, not {change.version}")
        try:
            check_transition(row.state, new, f"task run {row.key[0]}[{row.key[1]}]")
            if new == "Running" and row.state != "Running" and row.tags:
                self._check_limits(row)
        except ServerError as exc:
            return result("rejected", exc.message)
        row.state, row.message = new, change.state.message
        row.serialized, row.timestamp = change.state.serialized, change.state.timestamp or self.now
        row.version += 1
        row.changed = True
        self.history.append(
            {
                "flow_run_id": self.flow_run_id,
                "task_run_id": row.id,
                "name": new,
                "message": row.message,
                "serialized": row.serialized,
                "timestamp": row.timestamp,
                "version": row.version,
            }
        )
        return result("applied")

    def write(self) -> None:
        new = [r for r in self.rows.values() if r.new]
        if new:
            self.session.execute(
                sa.insert(T),
                [
                    {
                        "id": r.id,
                        "flow_run_id": self.flow_run_id,
                        "task_slug": r.key[0],
                        "map_index": r.key[1],
                        "task_name": r.task_name,
                        "tags": r.tags,
                        "state": r.state,
                        "state_message": r.message,
                        "state_serialized": r.serialized,
                        "state_timestamp": r.timestamp or self.now,
                        "version": r.version,
                        "created": self.now,
                    }
                    for r in new
                ],
            )
        changed = [r for r in self.rows.values() if r.changed and not r.new]
        if changed:
            self.session.execute(
                sa.update(T)
                .where(T.c.id == sa.bindparam("b_id"))
                .values(
                    state=sa.bindparam("b_state"),
                    state_message=sa.bindparam("b_message"),
                    state_serialized=sa.bindparam("b_serialized", type_=T.c.state_serialized.type),
                    state_timestamp=sa.bindparam("b_timestamp", type_=T.c.state_timestamp.type),
                    version=sa.bindparam("b_version"),
                ),
                [
                    {
                        "b_id": r.id,
                        "b_state": r.state,
                        "b_message": r.message,
                        "b_serialized": r.serialized,
                        "b_timestamp": r.timestamp,
                        "b_version": r.version,
                    }
                    for r in changed
                ],
            )
        if self.history:
            self.session.execute(sa.insert(HISTORY), self.history)

    def ids(self) -> dict[Key, str]:
        return {key: row.id for key, row in self.rows.items()}
