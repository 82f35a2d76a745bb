"""Projects, flows and flow groups as stored: projects created (names are unique), listed
and deleted; the flow version list; a flow group's schedule turned on or off.

Deleting a project deletes its flows, runs and logs with it (the models' cascades); only an
admin key may create or delete one, which the HTTP layer checks before it calls here.

A flow group holds every version of one flow; registering (:mod:`.registry`) adds a version
and archives the previous one, so the list shows latest versions unless asked for all.
Turning a group's schedule off drops the runs the scheduler made that no agent took yet
(:func:`.schedule_runs.drop_auto_scheduled_runs`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Flow, FlowGroup, Project
from headrace.server.domain.auth import Principal
from headrace.server.domain.lookup import get_project
from headrace.server.domain.schedule_runs import drop_auto_scheduled_runs
from headrace.server.errors import ConflictError

__all__ = [
    "create_project",
    "delete_project",
    "list_flows",
    "list_projects",
    "set_schedule_active",
]


def create_project(session: Session, name: str, description: str | None) -> Project:
    """A new project; :class:`ConflictError` naming it when the name is taken."""
    if session.scalar(sa.select(Project.id).where(Project.name == name)):
        raise ConflictError(f"project {name!r} already exists", field="name")
    project = Project(name=name, description=description)
    session.add(project)
    session.flush()
    return project


def list_projects(session: Session, who: Principal, name: str | None = None) -> list[Project]:
    """The projects ``who`` may see (the one named ``name`` when given), by name."""
    q = sa.select(Project).where(who.scope(Project.id)).order_by(Project.name)
    if name is not None:
        q = q.where(Project.name == name)
    return list(session.scalars(q))


def delete_project(session: Session, who: Principal, project_id: str) -> None:
    """Delete a project with everything in it."""
    session.delete(get_project(session, project_id, who))


def list_flows(
    session: Session,
    who: Principal,
    *,
    project_id: str | None = None,
    name: str | None = None,
    flow_group_id: str | None = None,
    all_versions: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[Flow]:
    """One page of the flows ``who`` may see, by name then newest version first."""
    q = sa.select(Flow).where(who.scope(Flow.project_id))
    for column, value in (
        (Flow.project_id, project_id),
        (Flow.name, name),
        (Flow.flow_group_id, flow_group_id),
    ):
        if value is not None:
            q = q.where(column == value)
    if not all_versions:
        q = q.where(Flow.archived.is_(False))
    q = q.order_by(Flow.name, Flow.version.desc()).limit(limit).offset(offset)
    return list(session.scalars(q))


def set_schedule_active(session: Session, group: FlowGroup, active: bool) -> None:
    """Turn ``group``'s schedule on or off (off drops its unclaimed auto-scheduled runs)."""
    if group.schedule_active and active is False:
        drop_auto_scheduled_runs(session, group.id)
    group.schedule_active = active
    session.flush()
