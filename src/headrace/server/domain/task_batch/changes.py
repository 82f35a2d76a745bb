"""A report's task-run state changes in one plain form, whichever form they came in
(``task_runs`` objects or compact ``task_states`` rows), in the order they apply.

A change is a plain tuple (no object per change: a big map's batch has 10,000 of them),
``(task_slug, task_name, tags, map_index, name, timestamp, message, serialized, version)``
(the :data:`SLUG` ... :data:`VERSION` positions): a compact row is its task's first three
fields followed by the row's own. ``timestamp`` is None (the server's time), a ``datetime``
or the runner's Unix seconds as a float, kept as they are until the writer binds them
(:mod:`.binds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from headrace.server.domain.task_batch.binds import FAST_RANGE
from headrace.wire import TaskStateChange, TaskStatesIn

__all__ = [
    "MAP_INDEX",
    "MESSAGE",
    "NAME",
    "SERIALIZED",
    "SLUG",
    "STAMP",
    "TAGS",
    "TASK_NAME",
    "VERSION",
    "Change",
    "changes_of",
]

Change = tuple[Any, ...]
SLUG, TASK_NAME, TAGS, MAP_INDEX, NAME, STAMP, MESSAGE, SERIALIZED, VERSION = range(9)


def changes_of(task_runs: Sequence[TaskStateChange], compact: TaskStatesIn | None) -> list[Change]:
    """The changes of a report in the order they apply: ``task_runs``, then the compact rows."""
    out: list[Change] = [
        (
            c.task_slug,
            c.task_name,
            c.tags,
            c.map_index,
            c.state.name,
            c.state.timestamp,
            c.state.message,
            c.state.serialized,
            c.version,
        )
        for c in task_runs
    ]
    if compact is None:
        return out
    # a task's tag list sorted once, shared by its rows (and bound once by the writer)
    tasks = [
        (t.task_slug, t.task_name, None if t.tags is None else sorted(t.tags))
        for t in compact.tasks
    ]
    low, high = FAST_RANGE
    for row in compact.rows:
        stamp = row[3]
        if type(stamp) is float and not low <= stamp < high:
            # unusual seconds as a datetime now (an impossible one fails here, as before)
            row = (*row[:3], datetime.fromtimestamp(stamp, UTC), *row[4:])
        out.append(tasks[row[0]] + row[1:])
    return out
