"""A report's task-run state changes in one plain form, whichever form they came in
(``task_runs`` objects or compact ``task_states`` rows), in the order they apply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from headrace.wire import TaskStateChange, TaskStatesIn

__all__ = ["Change", "changes_of"]


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
        for task, index, name, stamp, message, serialized, version in compact.rows:
            slug, task_name, tags = tasks[task]
            when = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, float | int) else stamp
            out.append(
                Change(slug, index, name, when, message, serialized, version, task_name, tags)
            )
    return out
