"""Fetching rows by id with the caller's project scope: missing or hidden -> 404."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.server.db.models import Flow, FlowGroup, FlowRun, Project, TaskRun
from headrace.server.domain.auth import Principal
from headrace.server.errors import NotFoundError

__all__ = [
    "check_flow_run",
    "get_flow",
    "get_flow_group",
    "get_flow_run",
    "get_project",
    "get_task_run",
]

T = TypeVar("T")


def _get(
    session: Session, model: type[T], ident: str, what: str, principal: Principal, lock: bool
) -> T:
    row: Any = session.get(model, ident, with_for_update=lock or None)
    if row is None:
        raise NotFoundError(f"{what} {ident} not found")
    principal.check_project(row.id if model is Project else row.project_id, f"{what} {ident}")
    result: T = row
    return result


def get_project(session: Session, ident: str, principal: Principal) -> Project:
    return _get(session, Project, ident, "project", principal, False)


def get_flow(session: Session, ident: str, principal: Principal) -> Flow:
    return _get(session, Flow, ident, "flow", principal, False)


def get_flow_group(session: Session, ident: str, principal: Principal) -> FlowGroup:
    return _get(session, FlowGroup, ident, "flow group", principal, False)


def get_flow_run(session: Session, ident: str, principal: Principal, lock: bool = False) -> FlowRun:
    """The flow run ``ident``; ``lock`` takes a row lock on PostgreSQL (FOR UPDATE)."""
    return _get(session, FlowRun, ident, "flow run", principal, lock)


_RUN_PROJECT = sa.select(FlowRun.project_id).where(FlowRun.id == sa.bindparam("ident"))


def check_flow_run(conn: sa.Connection, ident: str, principal: Principal) -> None:
    """404 unless flow run ``ident`` exists and ``principal`` may see it: what a read of its
    task runs or logs needs, without loading the run (an ORM load of the whole row costs
    more than the page it guards)."""
    found = conn.execute(_RUN_PROJECT, {"ident": ident}).first()
    if found is None:
        raise NotFoundError(f"flow run {ident} not found")
    principal.check_project(found[0], f"flow run {ident}")


def get_task_run(session: Session, ident: str, principal: Principal) -> TaskRun:
    row = session.get(TaskRun, ident)
    if row is None:
        raise NotFoundError(f"task run {ident} not found")
    run = session.get(FlowRun, row.flow_run_id)
    if run is None or not principal.can_see(run.project_id):
        raise NotFoundError(f"task run {ident} not found")
    return row
