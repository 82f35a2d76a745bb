"""Applying many task-run state changes of one flow run at once, in memory, then writing
them with a few bulk statements (this is what makes a 10,000-child map cheap to report).

The parts, in the order a report uses them: :mod:`.changes` (a report's changes in one
plain form), :mod:`.rows` (loading the task runs they name, one query per task), :mod:`.batch`
(checking and applying each change in memory), :mod:`.writer` (the bulk INSERT, UPDATE and
history INSERT, executemany on the driver) with :mod:`.postgres` (COPY and an UPDATE over
arrays on PostgreSQL). Every name imports from here.
"""

from __future__ import annotations

from headrace.server.domain.task_batch.batch import Outcome, TaskRunBatch
from headrace.server.domain.task_batch.changes import Change, changes_of
from headrace.server.domain.task_batch.rows import CHUNK, Key, fast_id, task_run_ids

__all__ = [
    "CHUNK",
    "Change",
    "Key",
    "Outcome",
    "TaskRunBatch",
    "changes_of",
    "fast_id",
    "task_run_ids",
]
