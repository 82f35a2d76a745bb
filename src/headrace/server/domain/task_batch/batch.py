"""Applying a batch's task-run state changes in memory: each change is checked exactly as a
single state change would be (version, the cached transition table, task-tag concurrency
limits) in a tight loop over plain objects, then the result is written back in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import ConcurrencyLimit
from headrace.server.domain.history import RUNNING_MESSAGE, materialize
from headrace.server.domain.states import (
    CANCELLING,
    FINISHED_NAMES,
    STATE_NAMES,
    SUCCESS_NAMES,
    transition_problem,
)
from headrace.server.domain.task_batch.changes import Change
from headrace.server.domain.task_batch.rows import CHUNK, Key, Row, load_rows
from headrace.server.domain.task_batch.rows import TASK_RUNS as T
from headrace.server.domain.task_batch.writer import write_rows
from headrace.server.errors import ConcurrencyLimitError

__all__ = ["Outcome", "TaskRunBatch"]

Outcome = dict[str, Any]


class TaskRunBatch:
    """The task runs one report touches, loaded once and written back in bulk."""

    def __init__(self, session: Session, flow_run_id: str, now: datetime) -> None:
        self.session, self.flow_run_id, self.now = session, flow_run_id, now
        self.rows: dict[Key, Row] = {}
        self.history: list[list[Any]] = []  # rows in writer.HISTORY_COLUMNS order
        self.applied = 0  # changes applied (a child's kept in its row has no history row)
        self._limits: dict[str, int] | None = None
        self._running_elsewhere: dict[str, int] = {}
        # loaded rows whose in-row history must become rows before this batch writes
        self.materialize: list[str] = []

    def load(self, changes: Sequence[Change]) -> None:
        self.rows = load_rows(self.session, self.flow_run_id, changes)

    def _check_limits(self, row: Row) -> None:
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
        slug, _, _, index, new, stamp, message, serialized, version = change
        row = self.rows[(slug, index)]
        if version is not None and version != row.version:
            if row.version == version + 1 and row.state == new:
                return self._outcome(row, "duplicate")
            detail = f"task run is at version {row.version}, not {version}"
            return self._outcome(row, "conflict", detail)
        old = row.state
        if new not in STATE_NAMES and new != CANCELLING:
            return self._outcome(row, "rejected", f"state.name: unknown state {new!r}")
        problem = transition_problem(old, new)
        if problem is not None:
            return self._outcome(row, "rejected", f"task run {slug}[{index}]" + problem)
        if new == "Running" and old != "Running" and row.tags:
            try:
                self._check_limits(row)
            except ConcurrencyLimitError as exc:
                return self._outcome(row, "rejected", exc.message)
        if row.in_row and not _kept_in_row(row, new, message, serialized):
            self._materialize(row)
        if stamp is None:
            stamp = self.now
        if new == "Running" and old != "Running":
            row.runs += 1
            if row.start is None:
                row.start = stamp
        row.end = stamp if new in FINISHED_NAMES else None
        row.state, row.message, row.serialized = new, message, serialized
        row.timestamp = stamp
        row.version += 1
        row.changed = True
        self.applied += 1
        if not row.in_row:
            self.history.append(
                [self.flow_run_id, row.id, new, message, serialized, stamp, row.version]
            )
        return self._outcome(row, "applied") if echo else None

    def _materialize(self, row: Row) -> None:
        """``row`` gets a change not kept in the row: the states its columns stand for
        become history rows first (in memory for a row this batch made, by SQL before the
        batch writes for a loaded one), then every change of it gets its own row."""
        row.in_row = False
        if not row.new:
            self.materialize.append(row.id)
            return
        if row.start is not None:
            self.history.append(
                [self.flow_run_id, row.id, "Running", RUNNING_MESSAGE, None, row.start, 1]
            )
        if row.version >= 1 and not (row.version == 1 and row.start is not None):
            self.history.append(
                [
                    self.flow_run_id,
                    row.id,
                    row.state,
                    row.message,
                    row.serialized,
                    row.timestamp,
                    row.version,
                ]
            )

    @staticmethod
    def _outcome(row: Row, status: str, detail: str | None = None) -> Outcome:
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
        if self.materialize:
            for i in range(0, len(self.materialize), CHUNK):
                materialize(self.session, T.c.id.in_(self.materialize[i : i + CHUNK]))
        write_rows(self.session, self.flow_run_id, self.rows.values(), self.history, self.now)

    def ids(self) -> dict[Key, str]:
        """Task run ids of the rows this batch knows (created or not)."""
        return {key: row.id for key, row in self.rows.items()}


def _kept_in_row(row: Row, name: str, message: str | None, serialized: Any) -> bool:
    """Whether a change to ``name`` of ``row`` (whose history is in the row so far) stays
    there: a first ``Running`` with the engine's usual message, or a success kind straight
    after it or as the first change (see :mod:`headrace.server.domain.history`)."""
    if name == "Running":
        return row.version == 0 and message == RUNNING_MESSAGE and serialized is None
    return name in SUCCESS_NAMES and (
        row.version == 0 or (row.version == 1 and row.state == "Running" and row.start is not None)
    )
