"""Prefect 1's import path for the flow-of-flows tasks (``prefect.tasks.prefect``), so a
Prefect flow runs with only ``prefect`` changed to ``headrace``; see :mod:`.flow_runs`."""

from headrace.tasks.flow_runs import (
    StartFlowRun,
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)

__all__ = ["StartFlowRun", "create_flow_run", "get_task_run_result", "wait_for_flow_run"]
