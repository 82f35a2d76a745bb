"""Request and response bodies of the HTTP API (pydantic): the one contract the server
validates against and the client, runner and agent build their requests from.

One module per resource group (:mod:`.flows`: projects and flows; :mod:`.runs`: states, flow
runs, task runs and logs; :mod:`.reports`: the batched report; :mod:`.admin`: agents,
concurrency limits and API keys), all importable from here. Unknown fields in a request are
rejected (``extra="forbid"``) so a typo is a 422 naming the field, not a silently ignored
setting.
"""

from __future__ import annotations

from headrace.wire.admin import (
    AgentHeartbeatIn,
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
from headrace.wire.base import ErrorItem, ErrorOut
from headrace.wire.flows import (
    FlowDocumentIn,
    FlowGroupOut,
    FlowGroupPatch,
    FlowIn,
    FlowOut,
    FlowRegistered,
    ProjectIn,
    ProjectOut,
)
from headrace.wire.orchestration import (
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
from headrace.wire.reports import (
    ReportIn,
    ReportOut,
    TaskRef,
    TaskStateChange,
    TaskStateResult,
    TaskStateRow,
    TaskStatesIn,
)
from headrace.wire.runs import (
    AttemptOut,
    FlowRunIn,
    FlowRunOut,
    HeartbeatOut,
    LogIn,
    LogOut,
    LostIn,
    RunLogIn,
    RunTokenOut,
    StateIn,
    StateOut,
    StateSetIn,
    StateSetOut,
    TaskRunIn,
    TaskRunOut,
    TaskSummaryOut,
)

__all__ = [
    "AgentHeartbeatIn",
    "AgentHeartbeatOut",
    "AgentIn",
    "AgentOut",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyOut",
    "ArtifactIn",
    "ArtifactOut",
    "AttemptOut",
    "BackfillIn",
    "BackfillOut",
    "ClaimIn",
    "ConcurrencyLimitIn",
    "ConcurrencyLimitOut",
    "ErrorItem",
    "ErrorOut",
    "FlowDocumentIn",
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
    "LostIn",
    "NotificationRuleIn",
    "NotificationRuleOut",
    "ProjectIn",
    "ProjectOut",
    "ReportIn",
    "ReportOut",
    "RunLogIn",
    "RunTokenOut",
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
