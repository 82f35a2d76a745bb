"""Request and response bodies of the HTTP API (pydantic), the contract clients rely on.

One module per resource group (:mod:`.flows`: projects and flows; :mod:`.runs`: states, flow
runs, task runs and logs; :mod:`.reports`: the batched report; :mod:`.admin`: agents,
concurrency limits and API keys), all importable from here. Unknown fields in a request are
rejected (``extra="forbid"``) so a typo is a 422 naming the field, not a silently ignored
setting.
"""

from __future__ import annotations

from headrace.server.schemas.admin import (
    AgentHeartbeatOut,
    AgentIn,
    AgentOut,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    ClaimIn,
    ConcurrencyLimitIn,
    ConcurrencyLimitOut,
)
from headrace.server.schemas.flows import (
    FlowGroupOut,
    FlowGroupPatch,
    FlowIn,
    FlowOut,
    FlowRegistered,
    ProjectIn,
    ProjectOut,
)
from headrace.server.schemas.orchestration import (
    ArtifactIn,
    ArtifactOut,
    BackfillIn,
    BackfillOut,
    NotificationRuleIn,
    NotificationRuleOut,
    SecretIn,
    SecretOut,
    SecretValueOut,
)
from headrace.server.schemas.reports import (
    ReportIn,
    ReportOut,
    TaskRef,
    TaskStateChange,
    TaskStateResult,
    TaskStateRow,
    TaskStatesIn,
)
from headrace.server.schemas.runs import (
    FlowRunIn,
    FlowRunOut,
    HeartbeatOut,
    LogIn,
    LogOut,
    StateIn,
    StateOut,
    StateSetIn,
    StateSetOut,
    TaskRunIn,
    TaskRunOut,
    TaskSummaryOut,
)

__all__ = [
    "AgentHeartbeatOut",
    "AgentIn",
    "AgentOut",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyOut",
    "ArtifactIn",
    "ArtifactOut",
    "BackfillIn",
    "BackfillOut",
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
    "NotificationRuleIn",
    "NotificationRuleOut",
    "ProjectIn",
    "ProjectOut",
    "ReportIn",
    "ReportOut",
    "SecretIn",
    "SecretOut",
    "SecretValueOut",
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
