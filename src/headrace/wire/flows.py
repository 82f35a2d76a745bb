"""Bodies of projects, flows (registered versions) and flow groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from headrace.wire.base import In, Out, sorted_labels
from headrace.wire.names import Bool, FlowName, Label, ProjectName

__all__ = [
    "FlowDocumentIn",
    "FlowGroupOut",
    "FlowGroupPatch",
    "FlowIn",
    "FlowOut",
    "FlowRegistered",
    "ProjectIn",
    "ProjectOut",
]


class ProjectIn(In):
    name: ProjectName
    description: str = ""


class ProjectOut(Out):
    id: str
    name: str
    description: str
    created: datetime


class _Open(BaseModel):
    """A part of a flow document: the keys the server reads are checked, the others kept."""

    model_config = ConfigDict(extra="allow")


class TaskDocIn(_Open):
    slug: str = Field(min_length=1, max_length=300)


class ParameterDocIn(_Open):
    name: str


class SectionDocIn(_Open):
    """The document's environment, storage or run config: its labels are run labels."""

    labels: list[Label] | None = None


class FlowDocumentIn(_Open):
    """``flow.serialize()`` as the server reads it; keys it does not read are stored as
    given. Task slugs must be unique within the document (422 naming the duplicate)."""

    name: FlowName
    tasks: list[TaskDocIn] = Field(default_factory=list)
    parameters: list[ParameterDocIn] = Field(default_factory=list)
    edges: list[dict[str, Any]] = Field(default_factory=list)
    schedule: dict[str, Any] | None = None
    environment: SectionDocIn | None = None
    storage: SectionDocIn | None = None
    run_config: SectionDocIn | None = None


class FlowIn(In):
    """A flow's serialized document (``flow.serialize()``) registered into a project
    (``project_id`` or ``project_name``: one of them is required)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["project_id"], "properties": {"project_id": {"type": "string"}}},
                {
                    "required": ["project_name"],
                    "properties": {"project_name": {"type": "string"}},
                },
            ]
        },
    )

    project_id: str | None = Field(default=None, min_length=1, max_length=100)
    project_name: ProjectName | None = None
    document: FlowDocumentIn
    labels: list[Label] = Field(default_factory=list)
    serialized_hash: str | None = Field(default=None, max_length=128)
    schedule_active: Bool | None = None

    _check_labels = field_validator("labels")(sorted_labels)


class FlowRegistered(Out):
    id: str
    flow_group_id: str
    version: int
    created: bool


class FlowOut(Out):
    id: str
    flow_group_id: str
    project_id: str
    name: str
    version: int
    serialized_hash: str
    labels: list[str]
    schedule: dict[str, Any] | None
    archived: bool
    created: datetime
    document: dict[str, Any] | None = None


class FlowGroupOut(Out):
    id: str
    project_id: str
    name: str
    schedule_active: bool
    created: datetime


class FlowGroupPatch(In):
    schedule_active: Bool
