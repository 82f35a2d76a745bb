"""Bodies of projects, flows (registered versions) and flow groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from headrace.server.schemas.base import In, Name, Out, sorted_labels

__all__ = [
    "FlowGroupOut",
    "FlowGroupPatch",
    "FlowIn",
    "FlowOut",
    "FlowRegistered",
    "ProjectIn",
    "ProjectOut",
]


class ProjectIn(In):
    name: str = Name
    description: str = ""


class ProjectOut(Out):
    id: str
    name: str
    description: str
    created: datetime


class FlowIn(In):
    """A flow's serialized document (``flow.serialize()``) registered into a project."""

    project_id: str | None = None
    project_name: str | None = None
    document: dict[str, Any]
    labels: list[str] = Field(default_factory=list)
    serialized_hash: str | None = Field(default=None, max_length=128)
    schedule_active: bool | None = None

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
    schedule_active: bool
