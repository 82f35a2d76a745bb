"""Projects as stored: create (names are unique), list what a caller may see, delete.

Deleting a project deletes its flows, runs and logs with it (the models' cascades). Only an
admin key may create or delete one; the HTTP layer checks that before it calls here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Project
from headrace.server.domain.auth import Principal
from headrace.server.domain.lookup import get_project
from headrace.server.errors import ConflictError

__all__ = ["create_project", "delete_project", "list_projects"]


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
