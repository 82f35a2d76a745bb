"""Prefect 1's import path for the tasks that act on flow runs (``prefect.tasks.prefect``),
so a Prefect flow runs with only ``prefect`` changed to ``headrace``; see :mod:`.flow_runs`
and :mod:`.run_control`."""

from headrace.tasks.flow_runs import (
    StartFlowRun,
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)
from headrace.tasks.run_control import CancelFlowRun, RenameFlowRun

__all__ = [
    "CancelFlowRun",
    "RenameFlowRun",
    "StartFlowRun",
    "create_flow_run",
    "get_task_run_result",
    "wait_for_flow_run",
]
