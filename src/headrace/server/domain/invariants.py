"""What the server checks before a flow run may end successfully.

A runner that lost part of its picture (a restart that skipped a half-finished map, a crash
between two reports) must not be able to record a run as ``Success`` that did not do all
its work. So a flow run enters a successful state only when

- every task run of it, mapped children included, has a finished state, and
- its outcome follows from what is stored: every reference task (the flow document's
  ``reference_tasks``, the terminal tasks unless the flow names others) ended successfully.

Anything else is refused with :class:`~headrace.server.errors.UnfinishedTaskRunsError`
(409 ``unfinished_task_runs``) naming the task runs at fault. The runner treats that answer
as an engine error and ends the run ``Failed``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Flow, FlowRun, TaskRun
from headrace.server.errors import UnfinishedTaskRunsError

__all__ = ["MAX_NAMED", "check_may_succeed"]

MAX_NAMED = 10
"""How many task runs at fault an error names (the count says how many there are)."""


def _named(slug: str, index: int, state: str) -> str:
    return f"{slug}[{index}] ({state})" if index >= 0 else f"{slug} ({state})"


def check_may_succeed(
    session: Session, run: FlowRun, new: str, finished: frozenset[str], success: frozenset[str]
) -> None:
    """Raise :class:`UnfinishedTaskRunsError` unless ``run`` may become ``new`` (a successful
    state name): all its task runs are in ``finished`` states and its reference tasks in
    ``success`` states."""
    unfinished = sa.and_(TaskRun.flow_run_id == run.id, TaskRun.state.not_in(sorted(finished)))
    rows = session.execute(
        sa.select(TaskRun.task_slug, TaskRun.map_index, TaskRun.state)
        .where(unfinished)
        .order_by(TaskRun.task_slug, TaskRun.map_index)
        .limit(MAX_NAMED)
    ).all()
    if rows:
        total = len(rows)
        if total == MAX_NAMED:
            total = int(session.scalar(sa.select(sa.func.count()).where(unfinished)) or 0)
        names = [_named(*row) for row in rows]
        more = f" and {total - len(names)} more" if total > len(names) else ""
        raise UnfinishedTaskRunsError(
            f"flow run {run.id} cannot become {new}: {total} of its task runs have not "
            f"finished: {', '.join(names)}{more}",
            flow_run_id=run.id,
            task_runs=names,
            total=total,
        )
    flow = session.get(Flow, run.flow_id)
    references = list((flow.document if flow is not None else {}).get("reference_tasks") or [])
    if not references:
        return
    failed = session.execute(
        sa.select(TaskRun.task_slug, TaskRun.map_index, TaskRun.state)
        .where(
            TaskRun.flow_run_id == run.id,
            TaskRun.map_index == -1,
            TaskRun.task_slug.in_(references),
            TaskRun.state.not_in(sorted(success)),
        )
        .order_by(TaskRun.task_slug)
        .limit(MAX_NAMED)
    ).all()
    if failed:
        names = [_named(*row) for row in failed]
        raise UnfinishedTaskRunsError(
            f"flow run {run.id} cannot become {new}: its reference task runs did not all "
            f"succeed: {', '.join(names)}",
            flow_run_id=run.id,
            task_runs=names,
            total=len(names),
        )
