"""Bodies of states, flow runs, task runs and logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from headrace.server.schemas.base import In, Out, sorted_labels

__all__ = [
    "FlowRunIn",
    "FlowRunOut",
    "HeartbeatOut",
    "LogIn",
    "LogOut",
    "StateIn",
    "StateOut",
    "StateSetIn",
    "StateSetOut",
    "TaskRunIn",
    "TaskRunOut",
    "TaskSummaryOut",
]


class StateIn(In):
    """A state as the runner reports it; the server reads only ``name``."""

    name: str = Field(min_length=1, max_length=40)
    message: str | None = None
    serialized: dict[str, Any] | None = None
    timestamp: datetime | None = None


class StateSetIn(In):
    state: StateIn
    version: int | None = Field(
        default=None, description="The version this change applies to; None skips the check."
    )


class StateSetOut(BaseModel):
    state: str
    version: int


class StateOut(Out):
    id: int
    flow_run_id: str
    task_run_id: str | None
    name: str
    message: str | None
    serialized: dict[str, Any] | None
    timestamp: datetime
    version: int


class FlowRunIn(In):
    flow_id: str
    name: str | None = Field(default=None, max_length=200)
    parameters: dict[str, Any] = Field(default_factory=dict)
    labels: list[str] | None = None
    scheduled_start: datetime | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    run_config: dict[str, Any] | None = None
    max_retries: int | None = Field(default=None, ge=0, le=100)
    # The task run of a parent flow run that starts this one (flows of flows).
    parent_task_run_id: str | None = Field(default=None, min_length=1, max_length=36)

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted_labels(value)


class FlowRunOut(Out):
    id: str
    flow_id: str
    flow_group_id: str
    project_id: str
    name: str
    parameters: dict[str, Any]
    labels: list[str]
    run_config: dict[str, Any] | None
    idempotency_key: str | None
    auto_scheduled: bool
    scheduled_start: datetime
    state: str
    state_message: str | None
    state_serialized: dict[str, Any] | None
    state_timestamp: datetime
    version: int
    max_retries: int
    run_count: int
    agent_id: str | None
    claimed_at: datetime | None
    heartbeat: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    is_late: bool
    created: datetime
    backfill_id: str | None = None
    parent_task_run_id: str | None = None
    task_run_counts: dict[str, int] | None = None


class HeartbeatOut(BaseModel):
    state: str
    version: int
    cancel_requested: bool


class TaskRunIn(In):
    task_slug: str = Field(min_length=1, max_length=300)
    map_index: int = Field(default=-1, ge=-1)
    task_name: str | None = None
    tags: list[str] = Field(default_factory=list)


class TaskRunOut(Out):
    id: str
    flow_run_id: str
    task_slug: str
    task_name: str
    map_index: int
    tags: list[str]
    state: str
    state_message: str | None
    state_serialized: dict[str, Any] | None
    state_timestamp: datetime
    version: int


class TaskSummaryOut(BaseModel):
    """One task of a run: its own state and its mapped children counted by state."""

    task_slug: str
    task_name: str
    state: str | None = None
    children_total: int = 0
    children: dict[str, int] = Field(default_factory=dict)


class LogIn(In):
    flow_run_id: str | None = Field(default=None, description="Implied inside a report.")
    task_run_id: str | None = None
    task_slug: str | None = None
    map_index: int | None = None
    timestamp: datetime | None = None
    level: int = Field(default=20, ge=0, le=100)
    name: str = Field(default="", max_length=200)
    message: str = ""


class LogOut(Out):
    id: int
    flow_run_id: str
    task_run_id: str | None
    task_slug: str | None
    map_index: int | None
    timestamp: datetime
    level: int
    name: str
    message: str
