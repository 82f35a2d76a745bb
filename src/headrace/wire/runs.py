"""Bodies of states, flow runs, task runs and logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from headrace.wire.base import In, Out, sorted_labels
from headrace.wire.names import Label, Level, MapIndex, Retries, StateName, Time, Version

__all__ = [
    "AttemptOut",
    "FlowRunIn",
    "FlowRunOut",
    "HeartbeatOut",
    "LogIn",
    "LogOut",
    "LostIn",
    "RunLogIn",
    "RunTokenOut",
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

    name: StateName
    message: str | None = None
    serialized: dict[str, Any] | None = None
    timestamp: Time | None = None


class StateSetIn(In):
    state: StateIn
    version: Version | None = Field(
        default=None,
        description="The version this change applies to; None skips the check.",
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
    labels: list[Label] | None = None
    scheduled_start: Time | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    run_config: dict[str, Any] | None = None
    max_retries: Retries | None = None
    # The task run of a parent flow run that starts this one (flows of flows).
    parent_task_run_id: str | None = Field(default=None, min_length=1, max_length=36)

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted_labels(value)


class FlowRunPatch(In):
    """What may change on a flow run besides its state: its name."""

    name: str = Field(min_length=1, max_length=200)


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


class LostIn(In):
    reason: str = Field(
        min_length=1,
        max_length=4000,
        description="How the run's runner died (its process's exit code or signal...).",
    )
    agent_id: str | None = Field(
        default=None,
        description="The agent reporting it: ignored unless the run is still this agent's "
        "(a run rescheduled and claimed by another agent meanwhile is not touched).",
    )


class RunTokenOut(BaseModel):
    token: str = Field(description="Shown once; stored only hashed.")
    flow_run_id: str
    expires: datetime


class HeartbeatOut(BaseModel):
    state: str
    version: int
    cancel_requested: bool
    run_count: int = Field(
        default=0,
        description="Attempts started so far: a runner's own attempt is the count "
        "it first saw; a higher one means its run was retried without it.",
    )


class TaskRunIn(In):
    task_slug: str = Field(min_length=1, max_length=300)
    map_index: MapIndex = -1
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
    start_time: datetime | None = Field(default=None, description="Its first Running.")
    end_time: datetime | None = Field(default=None, description="When it finished, if it has.")
    run_count: int = Field(default=0, description="Attempts: how many times it became Running.")


class AttemptOut(BaseModel):
    """One attempt of a task run: from a ``Running`` to the state that ended it."""

    attempt: int
    start: datetime | None
    end: datetime | None = Field(description="None while the attempt runs.")
    state: str
    message: str | None
    error: dict[str, str] | None = Field(
        default=None, description="The exception that ended it: type, message, traceback."
    )


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
    map_index: MapIndex | None = None
    timestamp: Time | None = None
    level: Level = 20
    name: str = Field(default="", max_length=200)
    message: str = ""


class RunLogIn(LogIn):
    """A log record sent on its own (``POST /logs``): it names its flow run."""

    flow_run_id: str = Field(min_length=1, max_length=100)


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
