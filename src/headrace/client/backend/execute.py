"""``execute_flow_run``: what ``headrace execute flow-run --id RUN`` does in an agent's process.

It fetches the run and its flow version, rebuilds the flow's storage from the server's
JSON, loads the flow from it, and hands it to the flow's environment
(``environment.setup(storage)`` then ``environment.execute(storage, flow_location)``) with
``engine.flow_runner.default_class`` pointing at :class:`BackendFlowRunner`, so any
environment, including a user's own, reports to the server. A failure before the flow
starts (bad storage, a missing module, an environment that raises in ``setup``) becomes the
run's ``Failed`` state with the error as its message.

Stopping (:mod:`~headrace.client.backend.cancel`): in its own process (the default,
``exit_on_cancel=True``) SIGTERM or the server's cancel request interrupts the flow, which
ends ``Cancelled`` (or ``Failed`` when stopped for another reason); ``on_exit`` runs; the
process exits on its own, or after ``agent.stop_grace_period`` seconds at the latest.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from headrace.client.backend.cancel import StopRequests, hard_stop, stopped_state
from headrace.client.backend.logs import secret_values
from headrace.client.backend.reporter import log_record, overtaken
from headrace.client.backend.runner import BackendFlowRunner, finished_here, prefetched_run
from headrace.client.backend.states import state_to_json
from headrace.engine.failure import describe_error
from headrace.engine.signals import RunCancelled
from headrace.engine.state import Failed
from headrace.utilities.logging import get_logger
from headrace.wire.names import FINISHED_STATE_NAMES

__all__ = ["RUNNER_CLASS", "execute_flow_run"]

RUNNER_CLASS = "headrace.client.backend.cancel:CancellableFlowRunner"
logger = get_logger("backend.execute")
FINISHED = FINISHED_STATE_NAMES


def _fail(client: Any, flow_run_id: str, message: str, exc: BaseException | None = None) -> None:
    """Fail the run with ``message``; with ``exc``, its type, message and traceback go with
    the state (secrets masked) and the traceback to the run's logs at ERROR."""
    if overtaken(flow_run_id):  # the run ended or was retried without this process
        return
    serialized: dict[str, Any] | None = None
    try:
        run = client.get_flow_run(flow_run_id)
        if run["state"] in FINISHED:
            return
        if exc is not None:  # masked like any failed state the runner reports
            failed = Failed(message[:4000], error=describe_error(exc))
            body = state_to_json(failed, secret_values())
            message, serialized = str(body["message"]), body["serialized"]
            assert serialized is not None
            text = f"{message}\n{serialized['error']['traceback'].rstrip()}"
            record = log_record(
                text, logging.ERROR, "headrace.backend.execute", time.time(), None, None
            )
            client.write_logs([{**record, "flow_run_id": flow_run_id}])
        client.set_flow_run_state(
            flow_run_id, "Failed", message=message[:4000], serialized=serialized
        )
    except Exception as exc:  # the server is unreachable too: nothing more to do here
        logger.error(
            "flow run %s: could not report the failure (%s): %s", flow_run_id, exc, message
        )


def _end_stopped(client: Any, flow_run_id: str, stops: StopRequests) -> str:
    """A stop that did not end the run through the flow runner (it came before the flow
    started, or the environment runs flows its own way): record how it ended."""
    run = client.get_flow_run(flow_run_id)
    if run["state"] in FINISHED or overtaken(flow_run_id) or finished_here(flow_run_id):
        return str(run["state"])
    final = stopped_state(client, flow_run_id, stops.reason or "stop requested")
    _fail_as(client, flow_run_id, type(final).__name__, final.message or "")
    return type(final).__name__


def _fail_as(client: Any, flow_run_id: str, state: str, message: str) -> None:
    try:
        client.set_flow_run_state(flow_run_id, state, message=message[:4000])
    except Exception as exc:
        logger.warning("flow run %s: could not record %s: %s", flow_run_id, state, exc)


def execute_flow_run(flow_run_id: str, client: Any = None, exit_on_cancel: bool = True) -> str:
    """Run flow run ``flow_run_id`` here; returns its final state name."""
    from headrace.client import Client
    from headrace.configuration import config
    from headrace.environments.execution import LocalEnvironment
    from headrace.serialization import load_storage

    client = client or Client()
    run = client.get_flow_run(flow_run_id)
    prefetched_run(run)
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
        _fail(client, flow_run_id, message, exc)
        return "Failed"

    # Set for this run only: a caller in a longer-lived process (a test, a notebook) gets
    # its own flow runner class and environment back afterwards.
    runner_before = config.engine.flow_runner.get("default_class")
    run_id_before = os.environ.get("HEADRACE__CONTEXT__FLOW_RUN_ID")
    config.engine.flow_runner["default_class"] = RUNNER_CLASS
    os.environ["HEADRACE__CONTEXT__FLOW_RUN_ID"] = flow_run_id
    previous = (BackendFlowRunner.default_client, BackendFlowRunner.default_on_cancel)
    BackendFlowRunner.default_client = client
    stops: StopRequests | None = None
    if exit_on_cancel and threading.current_thread() is threading.main_thread():
        watcher = StopRequests()
        watcher.on_expiry = lambda: hard_stop(client, flow_run_id, watcher)
        stops = watcher.install()
        BackendFlowRunner.default_on_cancel = lambda: watcher.ask("cancel requested")
    try:
        try:
            environment.setup(storage)
        except RunCancelled:
            raise
        except Exception as exc:
            message = f"environment {type(environment).__name__}.setup failed: {exc}"
            logger.error(message)
            _fail(client, flow_run_id, message, exc)
            return "Failed"
        try:
            state = environment.execute(storage, location)
        except RunCancelled:
            raise
        except Exception as exc:
            name = type(environment).__name__
            _fail(client, flow_run_id, f"{name}.execute raised: {exc!r}", exc)
            return "Failed"
    except RunCancelled:  # stopped outside the flow runner (setup, on_start, a custom runner)
        assert stops is not None
        return _end_stopped(client, flow_run_id, stops)
    finally:
        BackendFlowRunner.default_client, BackendFlowRunner.default_on_cancel = previous
        config.engine.flow_runner["default_class"] = runner_before
        if run_id_before is None:
            os.environ.pop("HEADRACE__CONTEXT__FLOW_RUN_ID", None)
        else:
            os.environ["HEADRACE__CONTEXT__FLOW_RUN_ID"] = run_id_before
        if stops is not None:
            stops.uninstall()
    final = client.get_flow_run(flow_run_id)["state"]
    if stops is not None and stops.requested.is_set() and final not in FINISHED:
        return _end_stopped(client, flow_run_id, stops)
    if final in ("Submitted", "Running", "Scheduled", "Pending") and not (
        finished_here(flow_run_id) or overtaken(flow_run_id)
    ):
        # The environment returned without running the flow through the backend runner.
        # (One that did finish it here may find the run restarted meanwhile: not to fail.)
        name_of_state = type(state).__name__ if state is not None else "nothing"
        _fail(
            client, flow_run_id, f"the environment finished without a final state ({name_of_state})"
        )
        return "Failed"
    return str(final)
