"""Request and response bodies of the HTTP API (pydantic), the contract clients rely on.

Unknown fields in a request are rejected (``extra="forbid"``) so a typo is a 422 naming
the field, not a silently ignored setting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AgentIn",
    "AgentOut",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyOut",
    "ClaimIn",
    "ConcurrencyLimitIn",
    "ConcurrencyLimitOut",
    "FlowGroupOut",
    "FlowGroupPatch",
    "FlowIn",
    "FlowOut",
    "FlowRegistered",
    "FlowRunIn",
    "FlowRunOut",
    "HeartbeatOut",
    "LogIn",
    "LogOut",
    "ProjectIn",
    "ProjectOut",
    "ReportIn",
    "ReportOut",
    "StateIn",
    "StateOut",
    "StateSetIn",
    "StateSetOut",
    "TaskRef",
    "TaskRunIn",
    "TaskRunOut",
    "TaskStateChange",
    "TaskStateResult",
    "TaskStateRow",
    "TaskStatesIn",
    "TaskSummaryOut",
]

Name = Field(min_length=1, max_length=200)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _labels(value: list[str]) -> list[str]:
    if any(not isinstance(v, str) or not v.strip() for v in value):
        raise ValueError("labels must be non-empty strings")
    return sorted(set(value))


# --- projects ------------------------------------------------------------------------------
class ProjectIn(In):
    name: str = Name
    description: str = ""


class ProjectOut(Out):
    id: str
    name: str
    description: str
    created: datetime


# --- flows ---------------------------------------------------------------------------------
class FlowIn(In):
    """A flow's serialized document (``flow.serialize()``) registered into a project."""

    project_id: str | None = None
    project_name: str | None = None
    document: dict[str, Any]
    labels: list[str] = Field(default_factory=list)
    serialized_hash: str | None = Field(default=None, max_length=128)
    schedule_active: bool | None = None

    _check_labels = field_validator("labels")(_labels)


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


# --- states --------------------------------------------------------------------------------
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


# --- flow runs -----------------------------------------------------------------------------
class FlowRunIn(In):
    flow_id: str
    name: str | None = Field(default=None, max_length=200)
    parameters: dict[str, Any] = Field(default_factory=dict)
    labels: list[str] | None = None
    scheduled_start: datetime | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    run_config: dict[str, Any] | None = None
    max_retries: int | None = Field(default=None, ge=0, le=100)

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _labels(value)


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
    task_run_counts: dict[str, int] | None = None


class HeartbeatOut(BaseModel):
    state: str
    version: int
    cancel_requested: bool


# --- task runs -----------------------------------------------------------------------------
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


# --- logs ----------------------------------------------------------------------------------
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


# --- batched report ------------------------------------------------------------------------
class TaskStateChange(In):
    """One task-run state change; the task run is created if it does not exist yet."""

    task_slug: str = Field(min_length=1, max_length=300)
    map_index: int = Field(default=-1, ge=-1)
    version: int | None = Field(
        default=None, description="Version the change applies to (0 for a new task run)."
    )
    state: StateIn
    task_name: str | None = None
    tags: list[str] | None = None


class TaskRef(In):
    """A task that rows of :class:`TaskStatesIn` refer to by position."""

    task_slug: str = Field(min_length=1, max_length=300)
    task_name: str | None = None
    tags: list[str] | None = None


TaskStateRow = tuple[
    int,
    int,
    Annotated[str, Field(min_length=1, max_length=40)],
    datetime | None,
    str | None,
    dict[str, Any] | None,
    int | None,
]


class TaskStatesIn(In):
    """Task-run state changes in a compact, columnar form (what the runner sends for big
    maps: about a third of the JSON of ``task_runs`` and much cheaper to validate).

    Each row is ``[task, map_index, state name, timestamp, message, serialized, version]``
    where ``task`` is a position in ``tasks`` and ``timestamp`` is ISO 8601 text or Unix
    seconds (null: the server's time); trailing nulls may not be left out. A row means
    exactly what a ``TaskStateChange`` with those fields (and its task's ``task_name`` and
    ``tags``) means, and rows apply in order, after ``task_runs``."""

    tasks: list[TaskRef] = Field(max_length=10_000)
    rows: list[TaskStateRow] = Field(default_factory=list, max_length=100_000)

    @model_validator(mode="after")
    def _check_rows(self) -> TaskStatesIn:
        n = len(self.tasks)
        for i, row in enumerate(self.rows):
            if not 0 <= row[0] < n:
                raise ValueError(
                    f"rows[{i}]: task {row[0]} is not a position in tasks (0..{n - 1})"
                )
            if row[1] < -1:
                raise ValueError(f"rows[{i}]: map_index {row[1]} is below -1")
        return self


class ReportIn(In):
    batch_id: str | None = Field(
        default=None, max_length=64, description="Unique per batch; a retried batch is a no-op."
    )
    flow_run_state: StateSetIn | None = None
    task_runs: list[TaskStateChange] = Field(default_factory=list, max_length=50_000)
    task_states: TaskStatesIn | None = Field(
        default=None, description="More task-run changes, compact; applied after task_runs."
    )
    logs: list[LogIn] = Field(default_factory=list, max_length=50_000)
    heartbeat: bool = True
    results: Literal["all", "problems"] = Field(
        default="all",
        description=(
            "'all' answers one entry per task-run change; 'problems' only the changes that "
            "were not applied (duplicate, conflict, rejected), with the applied ones counted "
            "in task_runs_applied (a big map's answer stays small)."
        ),
    )


class TaskStateResult(BaseModel):
    task_slug: str
    map_index: int
    task_run_id: str | None
    status: Literal["applied", "duplicate", "conflict", "rejected"]
    state: str | None
    version: int | None
    detail: str | None = None


class ReportOut(BaseModel):
    flow_run_state: str
    flow_run_version: int
    flow_run_status: Literal["applied", "duplicate", "conflict", "rejected", "none"]
    flow_run_detail: str | None = None
    cancel_requested: bool
    task_runs: list[TaskStateResult]
    task_runs_applied: int = Field(default=0, description="Task-run changes applied.")
    logs_inserted: int


# --- agents --------------------------------------------------------------------------------
class AgentIn(In):
    name: str = Name
    type: str = Field(default="", max_length=100)
    labels: list[str] = Field(default_factory=list)

    _check_labels = field_validator("labels")(_labels)


class AgentOut(Out):
    id: str
    name: str
    type: str
    labels: list[str]
    last_seen: datetime
    created: datetime


class ClaimIn(In):
    limit: int = Field(default=1, ge=1, le=1000)


class AgentHeartbeatOut(BaseModel):
    cancel_flow_run_ids: list[str]


# --- concurrency limits and API keys -------------------------------------------------------
class ConcurrencyLimitIn(In):
    limit: int = Field(ge=0, le=1_000_000)


class ConcurrencyLimitOut(Out):
    id: str
    kind: Literal["task_tag", "flow_label"]
    name: str
    limit: int
    active: int | None = None


class ApiKeyIn(In):
    name: str = Name
    project_ids: list[str] | None = Field(
        default=None, description="Projects the key may see; None means all (an admin key)."
    )


class ApiKeyOut(Out):
    id: str
    name: str
    prefix: str
    project_ids: list[str] | None
    created: datetime


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself; shown only once, stored only hashed.")
