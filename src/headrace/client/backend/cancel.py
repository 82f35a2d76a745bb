"""Stopping a flow run's process gracefully: on cancellation and when its agent stops.

Two things may ask a run's process to stop: its agent (SIGTERM, when the run is cancelled
or the agent shuts down) and the runner's own cancel watcher (the server answered a report
or heartbeat with ``cancel_requested``; it then sends SIGTERM to the main thread itself).
Either way the main thread, which runs the flow, gets
:class:`~headrace.engine.signals.RunCancelled` at its next bytecode (a blocking sleep or
wait is interrupted): the task it was in ends ``Cancelled``, the flow run ends, the
environment's ``on_exit`` runs, and the process exits on its own.

How the run ends is decided once, by asking the server: a run the server is cancelling
(``Cancelling``) ends ``Cancelled``; any other stop (the agent shut down, the machine is
going down) ends ``Failed`` saying so, with its unfinished task runs ``Cancelled`` (a
failed run is not re-queued here: see :mod:`headrace.agent.base`).

If the process is still alive ``agent.stop_grace_period`` seconds after the first request
(a task stuck in C code, or on another thread), the run is marked as above and the process
ends at once; its agent kills the whole process group after the same grace period.

Executors do not wait for the tasks they run when the stop leaves them:
``LocalDaskExecutor("processes")`` sends its workers SIGTERM (the task each runs ends
``Cancelled`` and the worker reports that on its way out), kills any still alive 5 s
later and leaves none behind; ``DaskExecutor`` stops the workers of a temporary cluster at
once. Threads (of ``LocalDaskExecutor("threads")``, or of a temporary cluster's in-process
workers) cannot be interrupted and are not waited for: the process exits once the run
ended. Known limit: a task blocked in C code in the main thread still holds the run until
the grace period; tasks on a cluster the run joined (``DaskExecutor(address=...)``) are
released, not stopped, and run to their end there.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import Any

from headrace.client.backend.reporter import overtaken
from headrace.client.backend.runner import BackendFlowRunner, finished_here
from headrace.engine.flow_runner import FlowRunner
from headrace.engine.signals import RunCancelled
from headrace.engine.state import Cancelled, Failed, Running, State
from headrace.utilities.logging import get_logger
from headrace.wire.names import FINISHED_STATE_NAMES

__all__ = [
    "CancellableFlowRunner",
    "StopRequests",
    "current_stop_requests",
    "stop_was_requested",
    "stopped_state",
]

logger = get_logger("backend.cancel")
FINISHED = FINISHED_STATE_NAMES
_current: StopRequests | None = None
_stopped_once = threading.Event()


def stop_was_requested() -> bool:
    """Whether this process was asked to stop (``headrace execute flow-run`` then exits at
    once after the run ended, not waiting for threads of tasks that were interrupted)."""
    return _stopped_once.is_set()


def current_stop_requests() -> StopRequests | None:
    """The process's :class:`StopRequests` while ``headrace execute flow-run`` runs."""
    return _current


def grace_period() -> float:
    """``agent.stop_grace_period`` from config (seconds)."""
    from headrace.configuration import config

    return float(config.get("agent", {}).get("stop_grace_period", 30.0))


class StopRequests:
    """The stop requests of one run's process: a SIGTERM handler, and :meth:`ask` for
    threads (the cancel watcher). The first request is remembered with its reason; while
    :meth:`armed` (the flow is running) it raises ``RunCancelled`` in the main thread, once.
    It also starts the grace timer, whose ``on_expiry`` ends the process."""

    def __init__(self, grace: float | None = None, on_expiry: Any = None) -> None:
        self.grace = grace_period() if grace is None else float(grace)
        self.requested = threading.Event()
        self.reason = ""
        self.on_expiry = on_expiry
        self._lock = threading.Lock()
        self._armed = False
        self._raised = False
        self._previous: Any = None
        self._timer: threading.Timer | None = None

    # --- installation (main thread) ------------------------------------------------------
    def install(self) -> StopRequests:
        global _current
        self._previous = signal.signal(signal.SIGTERM, self._on_signal)
        _current = self
        return self

    def uninstall(self) -> None:
        global _current
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
        if self._timer is not None:
            self._timer.cancel()
        if _current is self:
            _current = None

    # --- requests ------------------------------------------------------------------------
    def request(self, reason: str) -> bool:
        """Record a stop request (any thread); True for the first one."""
        with self._lock:
            if self.requested.is_set():
                return False
            self.reason = reason
            self.requested.set()
            _stopped_once.set()
            if self.grace >= 0 and self.on_expiry is not None:
                self._timer = threading.Timer(self.grace, self.on_expiry)
                self._timer.daemon = True
                self._timer.name = "headrace-stop-grace"
                self._timer.start()
        logger.warning("stopping this flow run: %s", reason)
        return True

    def ask(self, reason: str) -> None:
        """From another thread: request a stop and interrupt the main thread (SIGTERM to
        it, so a blocking call there returns at once)."""
        self.request(reason)
        main = threading.main_thread().ident
        if main is not None:
            signal.pthread_kill(main, signal.SIGTERM)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.request(f"its process got {signal.Signals(signum).name}")
        if self._armed and not self._raised:
            self._raised = True
            raise RunCancelled(self.reason)

    @contextmanager
    def armed(self) -> Iterator[None]:
        """While inside, a stop request interrupts the main thread; a request that came
        before raises at once (the flow does not start)."""
        if self.requested.is_set():
            self._raised = True
            raise RunCancelled(self.reason)
        self._armed = True
        try:
            yield
        finally:
            self._armed = False


def _server_state(client: Any, flow_run_id: str) -> str:
    try:
        return str(client.get_flow_run(flow_run_id)["state"])
    except Exception as exc:  # unreachable: decide without it
        logger.warning("flow run %s: could not read its state: %s", flow_run_id, exc)
        return "unknown"


def stopped_state(client: Any, flow_run_id: str, reason: str) -> State:
    """How a stopped run ends: ``Cancelled`` if the server is cancelling it, else
    ``Failed`` naming the reason."""
    if _server_state(client, flow_run_id) in ("Cancelling", "Cancelled"):
        return Cancelled(f"flow run cancelled ({reason})")
    return Failed(
        f"flow run stopped before it finished: {reason} (its agent stopped, or the "
        "machine is shutting down); restart it to run what did not finish"
    )


class _StopsOnRequest(FlowRunner):
    """Ends the flow run when ``RunCancelled`` interrupts it. It sits between
    :class:`BackendFlowRunner` and :class:`FlowRunner` in :class:`CancellableFlowRunner`'s
    MRO, so the backend runner's own ``run`` sees an ordinary final state and reports and
    settles it as usual."""

    def run(
        self,
        state: State | None = None,
        task_states: Mapping[Any, State] | None = None,
        parameters: Mapping[str, Any] | None = None,
        executor: Any = None,
        context: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> State:
        stops = current_stop_requests()
        if stops is None:
            return super().run(state, task_states, parameters, executor, context, **options)
        try:
            with stops.armed():
                return super().run(state, task_states, parameters, executor, context, **options)
        except RunCancelled as stop:
            return self._stopped(str(stop) or stops.reason)

    def _stopped(self, reason: str) -> State:
        client = getattr(self, "client", None)
        run_id = str(getattr(self, "flow_run_id", ""))
        final = stopped_state(client, run_id, reason)
        if isinstance(final, Failed):
            self._cancel_unfinished_tasks(client, run_id, reason)
        try:
            return self.set_flow_state(Running(), final)
        except Exception as exc:  # a flow state handler failed: the run still ends so
            logger.warning("flow run %s: a state handler failed while stopping: %s", run_id, exc)
            return final

    def _cancel_unfinished_tasks(self, client: Any, run_id: str, reason: str) -> None:
        """A failed stop leaves nothing to run the waiting tasks: report them Cancelled."""
        reporter = getattr(self, "reporter", None)
        if reporter is None or client is None:
            return
        try:
            rows = client.get_task_runs(run_id, limit=10000)
        except Exception as exc:
            logger.warning("flow run %s: could not list its task runs: %s", run_id, exc)
            return
        why = Cancelled(f"flow run stopped: {reason}")
        for row in rows:
            if row["state"] not in FINISHED and row["state"] != "Mapped":
                reporter.task_state(row["task_slug"], row["map_index"], why, row["task_name"], None)


class CancellableFlowRunner(BackendFlowRunner, _StopsOnRequest):
    """The runner ``headrace execute flow-run`` uses: :class:`BackendFlowRunner` that ends
    ``Cancelled`` (or ``Failed`` when stopped otherwise) on a stop request."""


def hard_stop(client: Any, flow_run_id: str, stops: StopRequests) -> None:
    """The grace period ran out: record how the run ended (waiting at most 5 s for the
    server), then end the process now, with its process group when it leads one (as under
    a LocalAgent: whatever the run started goes too)."""
    logger.error(
        "flow run %s: still running %gs after the stop request; ending the process",
        flow_run_id,
        stops.grace,
    )

    def record() -> None:
        if (
            overtaken(flow_run_id)
            or finished_here(flow_run_id)
            or _server_state(client, flow_run_id) in FINISHED
        ):
            return
        final = stopped_state(client, flow_run_id, stops.reason)
        message = f"{final.message}; the process did not stop within {stops.grace:g}s"
        try:
            client.set_flow_run_state(flow_run_id, type(final).__name__, message=message)
        except Exception as exc:
            logger.error("flow run %s: could not record its end: %s", flow_run_id, exc)

    recorder = threading.Thread(target=record, name="headrace-stop-record", daemon=True)
    recorder.start()
    recorder.join(5)
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(143)
