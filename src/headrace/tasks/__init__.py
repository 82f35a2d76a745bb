"""Ready-made tasks: secrets (``PrefectSecret``/``SecretTask``, ``EnvVarSecret``) and flows
of flows (``create_flow_run``, ``wait_for_flow_run``, ``get_task_run_result``,
``StartFlowRun``)."""

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
