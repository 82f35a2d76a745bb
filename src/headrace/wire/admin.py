"""Bodies of agents (registration, claims, heartbeats), concurrency limits and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from headrace.wire.base import In, Name, Out, sorted_labels
from headrace.wire.names import ClaimLimit, ClaimWait, Label, LimitValue

__all__ = [
    "AgentHeartbeatIn",
    "AgentHeartbeatOut",
    "AgentIn",
    "AgentOut",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyOut",
    "ClaimIn",
    "ConcurrencyLimitIn",
    "ConcurrencyLimitOut",
]


class AgentIn(In):
    name: str = Name
    type: str = Field(default="", max_length=100)
    labels: list[Label] = Field(default_factory=list)

    _check_labels = field_validator("labels")(sorted_labels)


class AgentOut(Out):
    id: str
    name: str
    type: str
    labels: list[str]
    last_seen: datetime
    created: datetime


class ClaimIn(In):
    limit: ClaimLimit = 1
    wait: ClaimWait = Field(
        default=0.0,
        description="Seconds (at most 8) the claim may wait, when no run is claimable yet, "
        "for one to become claimable (long poll); 0 answers at once.",
    )
    projects: list[str] | None = Field(
        default=None,
        description="Only claim runs of these projects (names or ids); default: every project "
        "the API key sees.",
    )


class AgentHeartbeatIn(In):
    flow_run_ids: list[str] | None = Field(
        default=None,
        max_length=10_000,
        description="The flow runs the agent holds (claimed or started): those still "
        "Submitted count as heartbeated, so a run whose agent died is noticed within "
        "server.heartbeat_timeout. Omitted: every Submitted run claimed by this agent.",
    )


class AgentHeartbeatOut(BaseModel):
    cancel_flow_run_ids: list[str]


class ConcurrencyLimitIn(In):
    limit: LimitValue


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
