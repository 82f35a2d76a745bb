"""``execute_flow_run``: what ``headrace execute flow-run --id RUN`` does in an agent's process.

It fetches the run and its flow version, rebuilds the flow's storage from the server's
JSON, loads the flow from it, and hands it to the flow's environment
(``environment.setup(storage)`` then ``environment.execute(storage, flow_location)``) with
``engine.flow_runner.default_class`` pointing at :class:`BackendFlowRunner`, so any
environment, including a user's own, reports to the server. A failure before the flow
starts (bad storage, a missing module, an environment that raises in ``setup``) becomes the
run's ``Failed`` state with the error as its message.
"""

from __future__ import annotations

import os
from typing import Any

from headrace.client.backend.runner import BackendFlowRunner
from headrace.utilities.logging import get_logger

__all__ = ["RUNNER_CLASS", "execute_flow_run"]

RUNNER_CLASS = "headrace.client.backend.runner:BackendFlowRunner"
logger = get_logger("backend.execute")


def _fail(client: Any, flow_run_id: str, message: str) -> None:
    try:
        run = client.get_flow_run(flow_run_id)
        if run["state"] in (
            "Success",
            "Failed",
            "Cancelled",
            "TimedOut",
            "TriggerFailed",
            "Skipped",
        ):
            return
        client.set_flow_run_state(flow_run_id, "Failed", message=message[:4000])
    except Exception as exc:  # the server is unreachable too: nothing more to do here
        logger.error(
            "flow run %s: could not report the failure (%s): %s", flow_run_id, exc, message
        )


def _stop_on_cancel(client: Any, flow_run_id: str) -> None:
    """Cancellation asked by the server: record it, then end this process at once (the run's
    threads cannot be interrupted; the agent watching this process also stops it)."""
    try:
        client.set_flow_run_state(flow_run_id, "Cancelled", message="cancelled on request")
    except Exception as exc:
        logger.warning("flow run %s: could not record the cancellation: %s", flow_run_id, exc)
    logger.warning("flow run %s: cancelled; stopping", flow_run_id)
    os._exit(130)


def execute_flow_run(flow_run_id: str, client: Any = None, exit_on_cancel: bool = True) -> str:
    """Run flow run ``flow_run_id`` here; returns its final state name."""
    from headrace.client import Client
    from headrace.configuration import config
    from headrace.environments.execution import LocalEnvironment
    from headrace.serialization import load_storage

    client = client or Client()
    run = client.get_flow_run(flow_run_id)
    try:
        document = client.get_flow(run["flow_id"])["document"]
        storage_doc = document.get("storage")
        if not storage_doc:
            raise ValueError(f"flow {document.get('name')!r} was registered without a storage")
        storage = load_storage(storage_doc)
        name = document["name"]
        location = storage.flows.get(name) or name
        flow = storage.get_flow(location)
        environment = flow.environment if flow.environment is not None else LocalEnvironment()
    except Exception as exc:
        message = f"could not load the flow of run {flow_run_id}: {type(exc).__name__}: {exc}"
        logger.error(message)
        _fail(client, flow_run_id, message)
        return "Failed"

    config.engine.flow_runner["default_class"] = RUNNER_CLASS
    os.environ["HEADRACE__CONTEXT__FLOW_RUN_ID"] = flow_run_id
    previous = (BackendFlowRunner.default_client, BackendFlowRunner.default_on_cancel)
    BackendFlowRunner.default_client = client
    if exit_on_cancel:
        BackendFlowRunner.default_on_cancel = lambda: _stop_on_cancel(client, flow_run_id)
    try:
        try:
            environment.setup(storage)
        except Exception as exc:
            message = f"environment {type(environment).__name__}.setup failed: {exc}"
            logger.error(message)
            _fail(client, flow_run_id, message)
            return "Failed"
        try:
            state = environment.execute(storage, location)
        except Exception as exc:
            _fail(client, flow_run_id, f"{type(environment).__name__}.execute raised: {exc!r}")
            return "Failed"
    finally:
        BackendFlowRunner.default_client, BackendFlowRunner.default_on_cancel = previous
    final = client.get_flow_run(flow_run_id)["state"]
    if final in ("Submitted", "Running", "Scheduled", "Pending"):
        # The environment returned without running the flow through the backend runner.
        name_of_state = type(state).__name__ if state is not None else "nothing"
        _fail(
            client, flow_run_id, f"the environment finished without a final state ({name_of_state})"
        )
        return "Failed"
    return str(final)
