"""Artifacts as stored: a markdown, link or table attached to a flow run (and a task run).

A task run is named by its slug and map index, as a runner knows it; an artifact naming a
task run that does not exist (yet) is kept on the flow run alone. A run's artifacts list
oldest first, at most :data:`MAX_LISTED`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Artifact, TaskRun
from headrace.server.domain.auth import Principal
from headrace.server.domain.lookup import get_flow_run

__all__ = ["MAX_LISTED", "create_artifact", "list_artifacts"]

MAX_LISTED = 1000


def create_artifact(
    session: Session,
    who: Principal,
    flow_run_id: str,
    *,
    task_slug: str | None,
    map_index: int,
    kind: str,
    data: dict[str, Any],
    now: datetime,
) -> Artifact:
    """A new artifact of flow run ``flow_run_id`` (which ``who`` must see)."""
    run = get_flow_run(session, flow_run_id, who)
    task_run_id = None
    if task_slug:
        task_run_id = session.scalar(
            sa.select(TaskRun.id).where(
                TaskRun.flow_run_id == run.id,
                TaskRun.task_slug == task_slug,
                TaskRun.map_index == map_index,
            )
        )
    artifact = Artifact(
        flow_run_id=run.id, task_run_id=task_run_id, kind=kind, data=data, created=now
    )
    session.add(artifact)
    session.flush()
    return artifact


def list_artifacts(
    session: Session, who: Principal, flow_run_id: str, task_run_id: str | None = None
) -> list[Artifact]:
    """A run's artifacts (of one task run when given), oldest first."""
    get_flow_run(session, flow_run_id, who)
    query = sa.select(Artifact).where(Artifact.flow_run_id == flow_run_id)
    if task_run_id is not None:
        query = query.where(Artifact.task_run_id == task_run_id)
    rows = session.scalars(query.order_by(Artifact.created, Artifact.id).limit(MAX_LISTED))
    return list(rows)
