"""Reporting from worker processes: states and log records of tasks that run in another
process (``LocalDaskExecutor("processes")``, ``DaskExecutor``) reach the server while the
run goes on, not only when the runner reconciles the final states.

The runner's engine listener pickles as :class:`WorkerListener`, which carries only the
API URL, the flow run id, the names of the environment variables the flow's storage
marks secret and a per-run token -- never the API key. The token (``POST
/flow_runs/{id}/token``, valid ``server.run_token_ttl`` seconds) may only report for that
run; without one (a server without keys) a worker uses its own config's key (``api.key``,
``HEADRACE__API__KEY``). A report the server refuses (401/403: no key, an expired token)
is logged in the worker, and the runner, which settles at the end what the workers did not
report, says so on the run with a warning log line. On its first state change in a process it starts
one :class:`~headrace.client.backend.reporter.Reporter` for that flow run (the same
batches, compact rows and ``batch_id`` retries; no heartbeats, the runner's process sends
those) and adds one log handler to the ``headrace`` logger that forwards the records of
task runs of that flow run, masked like the runner's. Everything queued is sent every
``cloud.report_interval`` seconds and when the process exits; a long-lived worker (a
``DaskExecutor`` cluster) stops a run's reporter once it has been idle ``IDLE_CLOSE``
seconds, when another run starts reporting from that worker.

Unpickled in the runner's own process (an in-process dask worker), the listener is the
runner's own, so nothing is reported twice and no second reporter starts.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing import util as mp_util
from typing import Any

from headrace.client.backend.logs import BackendLogHandler, secret_values
from headrace.client.backend.reporter import Reporter
from headrace.core.task import Task
from headrace.engine.state import State
from headrace.runcontext import current

__all__ = ["WorkerListener", "close_worker_reporters", "live_listener", "worker_listener"]

Listener = Callable[[Task, "int | None", State, State], None]

_LOCK = threading.Lock()
_LIVE: dict[str, Listener] = {}  # flow run id -> the runner's listener, in the runner's process
_REPORTERS: dict[str, Reporter] = {}  # flow run id -> this worker process's reporter
_HANDLER: list[_WorkerLogHandler] = []  # at most one, on the "headrace" logger
_EXIT_HOOKED: list[bool] = []  # the exit hooks are registered once per process
_ACTIVE: dict[str, float] = {}  # flow run id -> when its last state change was queued here
IDLE_CLOSE = 300.0  # a long-lived worker stops a run's reporter this long after its last use


@contextmanager
def live_listener(flow_run_id: str, listener: Listener) -> Iterator[None]:
    """Marks ``listener`` as the runner's listener of ``flow_run_id`` in this process while
    the run lasts."""
    _LIVE[flow_run_id] = listener
    try:
        yield
    finally:
        if _LIVE.get(flow_run_id) is listener:
            del _LIVE[flow_run_id]


def worker_listener(
    api_url: str, flow_run_id: str, secret_names: tuple[str, ...], token: str | None = None
) -> Listener:
    """What the runner's listener unpickles as: the runner's own listener in the runner's
    process, a :class:`WorkerListener` anywhere else."""
    live = _LIVE.get(flow_run_id)
    if live is not None:
        return live
    return WorkerListener(api_url, flow_run_id, secret_names, token)


class WorkerListener:
    """The engine listener in a worker process: queues each task state change on this
    process's reporter of the flow run (started on the first change)."""

    __slots__ = ("api_url", "flow_run_id", "secret_names", "token")

    def __init__(
        self,
        api_url: str,
        flow_run_id: str,
        secret_names: tuple[str, ...],
        token: str | None = None,
    ) -> None:
        self.api_url = api_url
        self.flow_run_id = flow_run_id
        self.secret_names = secret_names
        self.token = token

    def __reduce__(self) -> Any:
        return (worker_listener, (self.api_url, self.flow_run_id, self.secret_names, self.token))

    def __repr__(self) -> str:
        return f"<WorkerListener flow run {self.flow_run_id} -> {self.api_url}>"

    def __call__(self, task: Task, map_index: int | None, old: State, new: State) -> None:
        reporter = _REPORTERS.get(self.flow_run_id) or self._start()
        _ACTIVE[self.flow_run_id] = time.monotonic()
        slug = current().get("task_slug") or task.slug or task.name
        reporter.task_state(slug, -1 if map_index is None else map_index, new, task.name, None)

    def _start(self) -> Reporter:
        from headrace.client import Client
        from headrace.configuration import config

        with _LOCK:
            reporter = _REPORTERS.get(self.flow_run_id)
            if reporter is not None:
                return reporter
            _close_idle(time.monotonic() - IDLE_CLOSE)
            if not _EXIT_HOOKED:
                _EXIT_HOOKED.append(True)
                atexit.register(close_worker_reporters)
                # multiprocessing children may end without atexit; their finalizers run
                mp_util.Finalize(None, close_worker_reporters, exitpriority=10)
            client = Client(self.api_url, self.token) if self.token else Client(self.api_url)
            reporter = Reporter(client, self.flow_run_id, heartbeats=False)
            reporter.secrets = secret_values(self.secret_names)
            reporter.start()
            _REPORTERS[self.flow_run_id] = reporter
            if config.logging.get("log_to_backend", True):
                if not _HANDLER:
                    _HANDLER.append(_WorkerLogHandler(None))
                    logging.getLogger("headrace").addHandler(_HANDLER[0])
                _HANDLER[0].add_secrets(secret_values(self.secret_names))
                if self.token:
                    _HANDLER[0].add_secrets([self.token])
            return reporter


class _WorkerLogHandler(BackendLogHandler):
    """Forwards a record to the reporter of the flow run whose task emitted it."""

    def target(self) -> Reporter | None:
        run = current().get("flow_run_id")
        return None if run is None or run in _LIVE else _REPORTERS.get(str(run))

    def add_secrets(self, values: list[str]) -> None:
        merged = set(self.secrets) | set(values)
        self.secrets = sorted(merged, key=len, reverse=True)


def _close_idle(before: float) -> None:
    """Stop (in the background) the reporters of runs this process has not heard of since
    ``before``: a dask worker outlives many flow runs. Called with ``_LOCK`` held."""
    idle = [run for run in _REPORTERS if _ACTIVE.get(run, before) < before]
    for run in idle:
        reporter = _REPORTERS.pop(run)
        _ACTIVE.pop(run, None)
        threading.Thread(target=_stop, args=(reporter,), name="headrace-reporter-close").start()


def close_worker_reporters() -> None:
    """Send what this process's reporters still hold and stop them (at process exit;
    idempotent)."""
    with _LOCK:
        reporters = list(_REPORTERS.values())
        _REPORTERS.clear()
        if _HANDLER:
            logging.getLogger("headrace").removeHandler(_HANDLER.pop())
    for reporter in reporters:
        _stop(reporter)


def _stop(reporter: Reporter) -> None:
    reporter.close()
    reporter.client.close()


def _forget_after_fork() -> None:
    """A forked child has none of its parent's reporter threads: it must not queue on
    them (the runner's log handler included) but start its own."""
    global _LOCK
    _LOCK = threading.Lock()
    _LIVE.clear()
    _REPORTERS.clear()
    _ACTIVE.clear()
    _HANDLER.clear()
    _EXIT_HOOKED.clear()
    root = logging.getLogger("headrace")
    for handler in list(root.handlers):
        if isinstance(handler, BackendLogHandler):
            root.removeHandler(handler)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
