"""The task library: control flow, constants and collections, shell commands, secrets
(``PrefectSecret``/``SecretTask``, ``EnvVarSecret``) and flows of flows
(``create_flow_run``, ``wait_for_flow_run``, ``get_task_run_result``, ``StartFlowRun``).

What Prefect users import from ``prefect.tasks``; the library builds on the model and the
engine's signals, never the other way round.
"""

from headrace.tasks.flow_runs import (
    StartFlowRun,
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)
from headrace.tasks.secrets import EnvVarSecret, PrefectSecret, SecretBase, SecretTask

__all__ = [
    "EnvVarSecret",
    "PrefectSecret",
    "SecretBase",
    "SecretTask",
    "StartFlowRun",
    "create_flow_run",
    "get_task_run_result",
    "wait_for_flow_run",
]
