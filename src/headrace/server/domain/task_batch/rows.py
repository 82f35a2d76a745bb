"""Loading the task runs a batch touches: one query per task slug (the span of map indexes
the batch names, locked ``FOR UPDATE`` on PostgreSQL when the batch will write), read into
small plain objects; rows the batch names that do not exist yet (mapped children) are made
in memory, named and tagged after their parent task run."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import TaskRun
from headrace.server.domain.task_batch.changes import MAP_INDEX, SLUG, TAGS, TASK_NAME, Change

__all__ = [
    "CHUNK",
    "TASK_RUNS",
    "Key",
    "Row",
    "fast_id",
    "fast_ids",
    "load_rows",
    "select_rows",
    "task_run_ids",
]

Key = tuple[str, int]
CHUNK = 400
NO_TAGS: tuple[str, ...] = ()  # one shared value: the writer binds it once, not once a child
TASK_RUNS = T = cast(sa.Table, TaskRun.__table__)
COLUMNS = (
    T.c.id,
    T.c.task_slug,
    T.c.map_index,
    T.c.task_name,
    sa.type_coerce(T.c.tags, sa.Text).label("tags"),  # decoded only if a limit needs them
    T.c.state,
    T.c.version,
    T.c.start_time,
    T.c.run_count,
    T.c.history_in_row,
)


class Row:
    """One task run as a batch sees it: loaded (``new`` False) or to be created."""

    __slots__ = (
        "changed",
        "end",
        "id",
        "in_row",
        "key",
        "message",
        "new",
        "runs",
        "serialized",
        "start",
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
        # times are datetimes or a report's Unix seconds (see .binds), bound by the writer
        self.timestamp: datetime | float | None = None
        # the columns of its life (see headrace.server.domain.history): first Running, when it
        # finished, attempts, and whether its history is kept in the row alone
        self.start: datetime | float | None = None
        self.end: datetime | float | None = None
        self.runs = 0
        self.in_row = False

    def tag_list(self) -> list[str]:
        if isinstance(self.tags, str):  # raw JSON text from SQLite
            self.tags = json.loads(self.tags)
        return list(self.tags or [])


def fast_id() -> str:
    """A random (version 4) UUID string like :func:`~headrace.server.db.models.new_id`, made
    without a ``uuid.UUID`` object (a map creates thousands of task runs at once)."""
    return _uuid4_text(os.urandom(16).hex())


def fast_ids(n: int) -> list[str]:
    """``n`` of :func:`fast_id`, from one read of the random source."""
    h = os.urandom(16 * n).hex()
    return [_uuid4_text(h[i : i + 32]) for i in range(0, 32 * n, 32)]


def _uuid4_text(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def select_rows(session: Session, flow_run_id: str, keys: list[Key], lock: bool) -> list[Any]:
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
    return {
        (r.task_slug, r.map_index): r.id for r in select_rows(session, flow_run_id, keys, False)
    }


def load_rows(session: Session, flow_run_id: str, changes: Sequence[Change]) -> dict[Key, Row]:
    """The rows ``changes`` name, existing ones locked; missing ones made (``new``) at
    Pending, version 0, with the change's name and tags or else their parent's (a new
    mapped child starts with its history kept in the row)."""
    rows: dict[Key, Row] = {}
    first: dict[Key, Change] = {}  # each key's first change, in order
    for c in changes:
        key = (c[SLUG], c[MAP_INDEX])
        if key not in first:
            first[key] = c
    for r in select_rows(session, flow_run_id, list(first), True):
        key = (r.task_slug, r.map_index)
        tags = NO_TAGS if r.tags in (None, "[]") else r.tags
        row = rows[key] = Row(r.id, key, r.task_name, tags, r.state, r.version, False)
        row.start, row.runs, row.in_row = r.start_time, r.run_count, bool(r.history_in_row)
    missing = {key: change for key, change in first.items() if key not in rows} if rows else first
    if not missing:
        return rows
    parent_keys = list({(slug, -1) for slug, _ in missing})
    parents = {r.task_slug: r for r in select_rows(session, flow_run_id, parent_keys, False)}
    shared: dict[str, Sequence[str]] = {}  # one tag list per parent, not one per child
    given: dict[int, list[str]] = {}  # and one per tag list the changes name
    ids = fast_ids(len(missing))
    for (key, change), ident in zip(missing.items(), ids, strict=True):
        parent = parents.get(key[0])
        named = change[TAGS]
        if named is not None:
            tags = given.get(id(named))
            if tags is None:
                tags = given[id(named)] = sorted(named)
        elif parent is None:
            tags = NO_TAGS
        else:
            if key[0] not in shared:
                found = sorted(Row("", key, "", parent.tags, "", 0, False).tag_list())
                shared[key[0]] = found or NO_TAGS
            tags = shared[key[0]]
        name = change[TASK_NAME] or (parent.task_name if parent else key[0])
        row = rows[key] = Row(ident, key, name, tags, "Pending", 0, True)
        row.in_row = key[1] >= 0  # a new mapped child: history in the row while plain
    return rows
