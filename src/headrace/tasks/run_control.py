"""Tasks that act on a flow run through the server (Prefect 1's ``RenameFlowRun`` and
``CancelFlowRun``): by default on the run they are part of."""

from __future__ import annotations

from typing import Any

from headrace.client.client import Client
from headrace.core import Task
from headrace.runcontext import context

__all__ = ["CancelFlowRun", "RenameFlowRun"]


def _run_id(given: str | None, what: str) -> str:
    run_id = given or context.get("flow_run_id")
    if not run_id:
        raise ValueError(
            f"{what} needs flow_run_id=, or to run inside a flow run the server knows "
            "(there is no flow_run_id in the context)"
        )
    return str(run_id)


class RenameFlowRun(Task):
    """Give a flow run (by default the one running this task) a new name; returns True
    once the server stored it."""

    def __init__(
        self, flow_run_id: str | None = None, flow_run_name: str | None = None, **kwargs: Any
    ) -> None:
        self.flow_run_id = flow_run_id
        self.flow_run_name = flow_run_name
        super().__init__(**kwargs)

    def run(self, flow_run_id: str | None = None, flow_run_name: str | None = None) -> bool:
        run_id = _run_id(flow_run_id or self.flow_run_id, "RenameFlowRun")
        name = flow_run_name or self.flow_run_name
        if not name:
            raise ValueError("RenameFlowRun needs flow_run_name=, the run's new name")
        with Client() as client:
            client.rename_flow_run(run_id, name)
        return True


class CancelFlowRun(Task):
    """Cancel a flow run (by default the one running this task): one not started yet ends
    ``Cancelled``, a running one is stopped by its agent. Returns True once requested."""

    def __init__(self, flow_run_id: str | None = None, **kwargs: Any) -> None:
        self.flow_run_id = flow_run_id
        super().__init__(**kwargs)

    def run(self, flow_run_id: str | None = None) -> bool:
        run_id = _run_id(flow_run_id or self.flow_run_id, "CancelFlowRun")
        with Client() as client:
            client.cancel_flow_run(run_id)
        return True
