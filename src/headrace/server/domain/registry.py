"""Registering flow documents: projects, flow groups and versions.

The document is ``flow.serialize()`` JSON; the server reads only the keys DESIGN.md fixes
(name, tasks, parameters, schedule, environment, storage, run_config) and never imports user
code. A document whose hash equals the group's latest version is a no-op returning that
version; a changed one becomes the next version and archives the older ones (whose pending
auto-scheduled runs are dropped so the scheduler recreates them for the new version).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from headrace.schedules import ScheduleError, schedule_from_dict
from headrace.server.db.models import Flow, FlowGroup, FlowRun, Project
from headrace.server.domain.auth import Principal
from headrace.server.errors import ConflictError, InvalidInputError, NotFoundError
from headrace.wire import FlowIn

__all__ = ["check_schedule", "document_hash", "document_labels", "register_flow", "resolve_project"]


def document_hash(document: dict[str, Any], labels: list[str]) -> str:
    canonical = json.dumps({"document": document, "labels": labels}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _labels_of(section: Any, where: str) -> list[str]:
    if section is None:
        return []
    if not isinstance(section, dict):
        raise InvalidInputError(f"document.{where} must be an object", field=f"document.{where}")
    labels = section.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise InvalidInputError(
            f"document.{where}.labels must be a list of strings", field=f"document.{where}.labels"
        )
    return labels


def document_labels(document: dict[str, Any], extra: list[str]) -> list[str]:
    """A run's default labels: environment's, storage's and run config's, plus ``extra``."""
    found = set(extra)
    for section in ("environment", "storage", "run_config"):
        found.update(_labels_of(document.get(section), section))
    return sorted(found)


def validate_document(document: dict[str, Any]) -> None:
    """Check the keys the server relies on; the error names the offending key."""
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("document.name must be a non-empty string", field="document.name")
    for key in ("tasks", "parameters", "edges"):
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
            raise InvalidInputError(f"document.{key} must be a list of objects", field=key)
    slugs = set()
    for i, task in enumerate(document.get("tasks", [])):
        slug = task.get("slug")
        if not isinstance(slug, str) or not slug:
            raise InvalidInputError(
                f"document.tasks[{i}].slug must be a non-empty string", field="document.tasks"
            )
        if slug in slugs:
            raise InvalidInputError(f"document.tasks: duplicate slug {slug!r}")
        slugs.add(slug)
    for i, param in enumerate(document.get("parameters", [])):
        if not isinstance(param.get("name"), str):
            raise InvalidInputError(f"document.parameters[{i}].name must be a string")
    schedule = document.get("schedule")
    if schedule is not None and not isinstance(schedule, dict):
        raise InvalidInputError("document.schedule must be an object or null")
    if schedule is not None:
        params = document.get("parameters", [])
        check_schedule(
            schedule, {p["name"] for p in params}, {p["name"] for p in params if p.get("required")}
        )


def check_schedule(schedule: dict[str, Any], parameters: set[str], required: set[str]) -> None:
    """A schedule document loads (headrace's own clocks, filters and adjustments only), its
    clocks' ``parameter_defaults`` name parameters the flow has, and every clock gives the
    flow's required parameters (else its runs could not start, as Prefect refuses too)."""
    try:
        loaded = schedule_from_dict(schedule)
    except ScheduleError as exc:
        raise InvalidInputError(f"document.schedule: {exc}", field="document.schedule") from None
    for i, clock in enumerate(loaded.clocks):
        unknown = sorted(set(clock.parameter_defaults) - parameters)
        if unknown:
            known = ", ".join(sorted(parameters)) or "none"
            raise InvalidInputError(
                f"document.schedule.clocks[{i}].parameter_defaults: the flow has no parameter "
                f"{unknown[0]!r} (it has: {known})",
                field="document.schedule",
            )
        missing = sorted(required - set(clock.parameter_defaults))
        if missing:
            raise InvalidInputError(
                f"document.schedule.clocks[{i}]: the flow's required parameter {missing[0]!r} "
                "has no value in the clock's parameter_defaults, so its runs could not start",
                field="document.schedule",
            )


def resolve_project(
    session: Session, principal: Principal, project_id: str | None, project_name: str | None
) -> Project:
    if project_id:
        project = session.get(Project, project_id)
        what = f"project {project_id}"
    elif project_name:
        project = session.scalar(sa.select(Project).where(Project.name == project_name))
        what = f"project {project_name!r}"
    else:
        raise InvalidInputError("give project_id or project_name", field="project_id")
    if project is None or not principal.can_see(project.id):
        raise NotFoundError(f"{what} not found", field="project_id")
    return project


def register_flow(session: Session, body: FlowIn, principal: Principal) -> tuple[Flow, bool]:
    """Store a flow version; returns it and whether it is new."""
    document = body.document.model_dump(exclude_unset=True)
    validate_document(document)
    project = resolve_project(session, principal, body.project_id, body.project_name)
    name = document["name"]
    group = session.scalar(
        sa.select(FlowGroup)
        .where(FlowGroup.project_id == project.id, FlowGroup.name == name)
        .with_for_update()
    )
    if group is None:
        group = FlowGroup(project_id=project.id, name=name, schedule_active=True)
        session.add(group)
        session.flush()
    if body.schedule_active is not None:
        group.schedule_active = body.schedule_active
    digest = body.serialized_hash or document_hash(document, body.labels)
    latest = session.scalar(
        sa.select(Flow).where(Flow.flow_group_id == group.id).order_by(Flow.version.desc()).limit(1)
    )
    if latest is not None and latest.serialized_hash == digest:
        return latest, False
    session.execute(sa.update(Flow).where(Flow.flow_group_id == group.id).values(archived=True))
    session.execute(
        sa.delete(FlowRun).where(
            FlowRun.flow_group_id == group.id,
            FlowRun.auto_scheduled.is_(True),
            FlowRun.state == "Scheduled",
        )
    )
    flow = Flow(
        flow_group_id=group.id,
        project_id=project.id,
        name=name,
        version=(latest.version + 1) if latest else 1,
        serialized_hash=digest,
        document=document,
        labels=document_labels(document, body.labels),
        schedule=document.get("schedule"),
        archived=False,
    )
    session.add(flow)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise ConflictError(f"flow {name!r} was registered concurrently; retry") from None
    return flow, True
