"""The runner side of the server: a flow runner that reports to it, and ``execute_flow_run``
(what ``headrace execute flow-run`` runs in an agent's process)."""

from headrace.client.backend.execute import execute_flow_run
from headrace.client.backend.logs import BackendLogHandler
from headrace.client.backend.reporter import Reporter
from headrace.client.backend.runner import (
    BackendFlowRunner,
    MissingFlowRunIdError,
    flow_run_id_from_context,
)

__all__ = [
    "BackendFlowRunner",
    "BackendLogHandler",
    "MissingFlowRunIdError",
    "Reporter",
    "execute_flow_run",
    "flow_run_id_from_context",
]
