"""Projects, flows (versions) and flow groups."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from headrace.server.db.database import Database
from headrace.server.domain import flows
from headrace.server.domain.auth import Principal
from headrace.server.domain.lookup import get_flow, get_flow_group, get_project
from headrace.server.domain.registry import register_flow
from headrace.server.http.deps import DB, WHO
from headrace.wire import (
    FlowGroupOut,
    FlowGroupPatch,
    FlowIn,
    FlowOut,
    FlowRegistered,
    ProjectIn,
    ProjectOut,
)
from headrace.wire.limits import MAX_OFFSET

__all__ = ["router"]

router = APIRouter()


@router.post(
    "/projects",
    response_model=ProjectOut,
    status_code=status.HTTP_201_CREATED,
    tags=["projects"],
    summary="Create a project (409 if the name exists)",
)
def create_project(body: ProjectIn, db: Database = DB, who: Principal = WHO) -> ProjectOut:
    who.require_admin("creating a project")
    with db.session() as s:
        return ProjectOut.model_validate(flows.create_project(s, body.name, body.description))


@router.get("/projects", response_model=list[ProjectOut], tags=["projects"])
def list_projects(
    name: str | None = None, db: Database = DB, who: Principal = WHO
) -> list[ProjectOut]:
    with db.session(write=False) as s:
        return [ProjectOut.model_validate(p) for p in flows.list_projects(s, who, name)]


@router.get("/projects/{project_id}", response_model=ProjectOut, tags=["projects"])
def read_project(project_id: str, db: Database = DB, who: Principal = WHO) -> ProjectOut:
    with db.session(write=False) as s:
        return ProjectOut.model_validate(get_project(s, project_id, who))


@router.delete(
    "/projects/{project_id}",
    status_code=204,
    tags=["projects"],
    summary="Delete a project with its flows, runs and logs",
)
def delete_project(project_id: str, db: Database = DB, who: Principal = WHO) -> None:
    who.require_admin("deleting a project")
    with db.session() as s:
        flows.delete_project(s, who, project_id)


@router.post(
    "/flows",
    response_model=FlowRegistered,
    tags=["flows"],
    summary="Register a flow document; unchanged documents return the same id",
)
def create_flow(body: FlowIn, db: Database = DB, who: Principal = WHO) -> FlowRegistered:
    with db.session() as s:
        flow, created = register_flow(s, body, who)
        return FlowRegistered(
            id=flow.id, flow_group_id=flow.flow_group_id, version=flow.version, created=created
        )


@router.get(
    "/flows",
    response_model=list[FlowOut],
    tags=["flows"],
    summary="List flows (latest versions unless all_versions)",
)
def list_flows(
    project_id: str | None = None,
    name: str | None = None,
    flow_group_id: str | None = None,
    all_versions: bool = False,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    db: Database = DB,
    who: Principal = WHO,
) -> list[FlowOut]:
    with db.session(write=False) as s:
        rows = flows.list_flows(
            s,
            who,
            project_id=project_id,
            name=name,
            flow_group_id=flow_group_id,
            all_versions=all_versions,
            limit=limit,
            offset=offset,
        )
        return [FlowOut.model_validate(f) for f in rows]


@router.get(
    "/flows/{flow_id}",
    response_model=FlowOut,
    tags=["flows"],
    summary="One flow version, with its serialized document",
)
def read_flow(flow_id: str, db: Database = DB, who: Principal = WHO) -> FlowOut:
    with db.session(write=False) as s:
        flow = get_flow(s, flow_id, who)
        out = FlowOut.model_validate(flow)
        out.document = flow.document
        return out


@router.get("/flow_groups/{flow_group_id}", response_model=FlowGroupOut, tags=["flows"])
def read_flow_group(flow_group_id: str, db: Database = DB, who: Principal = WHO) -> FlowGroupOut:
    with db.session(write=False) as s:
        return FlowGroupOut.model_validate(get_flow_group(s, flow_group_id, who))


@router.patch(
    "/flow_groups/{flow_group_id}",
    response_model=FlowGroupOut,
    tags=["flows"],
    summary="Turn a flow's schedule on or off",
)
def update_flow_group(
    flow_group_id: str, body: FlowGroupPatch, db: Database = DB, who: Principal = WHO
) -> FlowGroupOut:
    with db.session() as s:
        group = get_flow_group(s, flow_group_id, who)
        flows.set_schedule_active(s, group, body.schedule_active)
        return FlowGroupOut.model_validate(group)
