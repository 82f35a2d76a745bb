"""``BackendFlowRunner``: a flow runner that runs one flow run of the server and reports it.

It fetches its flow run (id from the argument, the run context, or
``HEADRACE__CONTEXT__FLOW_RUN_ID``), takes the run's parameters, and rebuilds the task
states of an earlier attempt so a restarted run re-runs only what did not succeed
(successful task runs come back with their persisted results, read lazily). Flow and task
state changes and the run's log records go to the server in batches (the final flow state
last, after every task state, since the server refuses a final success while task runs
are unfinished; a refusal ends the run ``Failed``) through a
:class:`~headrace.client.backend.reporter.Reporter`; tasks that run in worker processes
report from there (:mod:`~headrace.client.backend.worker`). Results are checkpointed by default
(``cloud.checkpointing``), into the flow's result or a ``LocalResult`` under
``flows.results_dir``, so a restart has them, and so does a chunk of mapped children that
a cluster runs again after its worker died (it asks the server which of its children
finished before running them: :mod:`~headrace.client.backend.recall`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from headrace.client.backend.checkpoints import CheckpointResult, checkpoint_location, close_packs
from headrace.client.backend.listener import TaskStateListener
from headrace.client.backend.logs import BackendLogHandler, secret_values
from headrace.client.backend.recall import ServerRecall
from headrace.client.backend.reporter import Reporter
from headrace.client.backend.restart import earlier_task_states, server_task_states
from headrace.client.backend.worker import live_listener
from headrace.core.flow import Flow
from headrace.core.task import Task
from headrace.engine.flow_runner import FlowRunner
from headrace.engine.settings import RunSettings
from headrace.engine.state import Failed, Mapped, Pending, Running, State, state_class
from headrace.engine.task_runner import TaskRunner
from headrace.engine.transitions import is_allowed
from headrace.exceptions import HeadraceError
from headrace.utilities.logging import get_logger
from headrace.utilities.secrets import remember_secrets
from headrace.wire.names import FINISHED_STATE_NAMES

__all__ = [
    "BackendFlowRunner",
    "CheckpointResult",
    "MissingFlowRunIdError",
    "checkpoint_location",
    "finished_here",
    "flow_run_id_from_context",
    "prefetched_run",
]

logger = get_logger("backend.runner")
_NOT_TO_RUN = FINISHED_STATE_NAMES | {"Cancelling"}


_FINISHED_HERE: set[str] = set()  # flow runs a backend runner of this process finished
# The run as ``headrace execute flow-run`` read it just before, for the runner it starts (one
# request less per run), with when it was read; older than FRESH seconds it is read again.
_PREFETCHED: dict[str, tuple[float, dict[str, Any]]] = {}
FRESH = 1.0


def prefetched_run(run: dict[str, Any]) -> None:
    """Hand the flow run just read from the server to the runner about to run it."""
    _PREFETCHED[str(run["id"])] = (time.monotonic(), run)


def finished_here(flow_run_id: str) -> bool:
    """Whether a :class:`BackendFlowRunner` of this process ran ``flow_run_id`` to a final
    state (and reported it): what the server holds now is no longer this process's to
    change (a user may have restarted the run already)."""
    return flow_run_id in _FINISHED_HERE


class MissingFlowRunIdError(HeadraceError, ValueError):
    """A backend run was asked for without saying which flow run it is."""


def flow_run_id_from_context() -> str | None:
    """The flow run id from the run context, the config or the environment."""
    from headrace.configuration import config
    from headrace.runcontext import current

    found = current().get("flow_run_id") or config.get("context", {}).get("flow_run_id")
    found = found or os.environ.get("HEADRACE__CONTEXT__FLOW_RUN_ID")
    return None if found in (None, "") else str(found)


class BackendFlowRunner(FlowRunner):
    """Runs the flow as flow run ``flow_run_id`` of the server at ``client``'s API URL.

    ``default_client``/``default_on_cancel`` are what ``headrace execute flow-run`` sets for
    runners an environment creates with only ``(flow=flow)``.
    """

    default_client: ClassVar[Any] = None
    default_on_cancel: ClassVar[Callable[[], None] | None] = None
    returns_retrying = False  # one call runs the flow run to its end: retries sleep

    def __init__(
        self,
        flow: Flow,
        task_runner_cls: type[TaskRunner] | None = None,
        listeners: tuple[Any, ...] = (),
        flow_listeners: tuple[Any, ...] = (),
        flow_run_id: str | None = None,
        client: Any = None,
        on_cancel: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(flow, task_runner_cls, listeners, flow_listeners)
        self.flow_run_id = flow_run_id or flow_run_id_from_context()
        if not self.flow_run_id:
            raise MissingFlowRunIdError(
                f"BackendFlowRunner for flow {flow.name!r}: no flow run id (pass flow_run_id=, "
                "or set HEADRACE__CONTEXT__FLOW_RUN_ID)"
            )
        if client is None:
            client = BackendFlowRunner.default_client
        if client is None:
            from headrace.client import Client

            client = Client()
        self.client = client
        self.on_cancel = on_cancel or BackendFlowRunner.default_on_cancel
        self.reporter: Reporter | None = None
        self._default_result: Any = None
        self._given: dict[Task, State] = {}
        self._recall: ServerRecall | None = None

    # ---- checkpointing ----------------------------------------------------------------
    def run_settings(self, executor: Any, keep_finished: bool = False) -> RunSettings:
        """The engine's settings, checkpointing by default (``cloud.checkpointing``) into
        the flow's result or a :class:`CheckpointResult`, so a restart has the results."""
        from headrace.configuration import config

        settings = super().run_settings(executor, keep_finished)
        enabled = bool(config.get("cloud", {}).get("checkpointing", True)) or settings.checkpointing
        result = settings.flow_result
        if result is None and enabled:
            if self._default_result is None:
                self._default_result = CheckpointResult()
            result = self._default_result
        return settings.replace(checkpointing=enabled, flow_result=result)

    def task_runner(self, task: Task, settings: RunSettings) -> TaskRunner:
        runner = super().task_runner(task, settings)
        api_url = str(getattr(self.client, "api_url", "") or "")
        if settings.checkpointing and api_url:  # children recorded with results are reused
            if self._recall is None:
                markers = None if self._default_result is None else str(self._default_result.dir)
                self._recall = ServerRecall(api_url, str(self.flow_run_id), markers)
            runner.recall = self._recall
        return runner

    # ---- restart ----------------------------------------------------------------------
    def load_task_states(self) -> dict[Task, State]:
        """States of an earlier attempt (see :func:`earlier_task_states`)."""
        return earlier_task_states(self.client, str(self.flow_run_id), self.flow)

    # ---- the run ----------------------------------------------------------------------
    def run(
        self,
        state: State | None = None,
        task_states: Mapping[Task, State] | None = None,
        parameters: Mapping[str, Any] | None = None,
        executor: Any = None,
        context: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> State:
        """Run the flow run and report it; returns the flow's final state (``options``:
        the engine runner's keywords, such as ``task_contexts``)."""
        known = _PREFETCHED.pop(str(self.flow_run_id), None)
        if known is not None and time.monotonic() - known[0] < FRESH:
            run = known[1]
        else:
            run = self.client.get_flow_run(self.flow_run_id)
        if run["state"] in _NOT_TO_RUN:
            logger.warning(
                "flow run %s is %s on the server; not running it", self.flow_run_id, run["state"]
            )
            kind = state_class("Cancelled" if run["state"] == "Cancelling" else run["state"])
            return kind(f"flow run is {run['state']} on the server; not run")
        if parameters is None:
            parameters = run.get("parameters") or {}
        self._remember_secret_parameters(parameters)
        if task_states is None:
            # a run whose task runs are all Pending (its first attempt: the server made them
            # with the run) has no earlier states to read (see restart.earlier_task_states)
            counts = run.get("task_run_counts")
            fresh = isinstance(counts, dict) and set(counts) <= {"Pending"}
            task_states = {} if fresh else self.load_task_states()
        reporter = Reporter(self.client, str(self.flow_run_id), on_cancel=self.on_cancel).start()
        self.reporter = reporter
        names = tuple(getattr(getattr(self.flow, "storage", None), "secrets", None) or ())
        reporter.secrets = secret_values(names)
        listener = TaskStateListener(
            reporter,
            dict(self.flow.slugs),
            api_url=str(getattr(self.client, "api_url", "") or ""),
            flow_run_id=str(self.flow_run_id),
            secret_names=names,
            token=self._run_token(),
        )
        last_flow: list[str] = []

        def flow_listener(flow: Flow, old: State, new: State) -> None:
            last_flow.append(type(new).__name__)
            if not new.is_finished():  # the final one goes after the task states, below
                reporter.flow_state(new)

        self.listeners = (*self.listeners, listener)
        self.flow_listeners = (*self.flow_listeners, flow_listener)
        handler = self._attach_log_handler(reporter)
        ctx = {
            "flow_run_id": self.flow_run_id,
            "flow_run_name": run.get("name"),
            "flow_id": run.get("flow_id"),
            **(context or {}),
        }
        final: State = Pending()
        self._given = dict(task_states)
        try:
            with live_listener(str(self.flow_run_id), listener):
                final = super().run(state, task_states, parameters, executor, ctx, **options)
        finally:
            self._reconcile(final, listener)
            if final.is_finished() or not last_flow or last_flow[-1] != type(final).__name__:
                reporter.flow_state(final)
            if handler is not None:
                logging.getLogger("headrace").removeHandler(handler)
            if self._default_result is not None:
                close_packs(self._default_result.dir, str(self.flow_run_id))
            if self._recall is not None:
                self._recall.remove_markers(self.flow.slugs.values())
            reporter.close()
        if reporter.refused is not None:
            final = self._refused(final, reporter.refused)
        if final.is_finished():
            _FINISHED_HERE.add(str(self.flow_run_id))
        return final

    def _refused(self, final: State, why: str) -> State:
        """The server refused the run's final state (some task runs have not finished):
        an engine error. The run ends Failed, on the server and here, saying why."""
        message = f"engine error: the server refused {type(final).__name__}: {why}"
        logger.error("flow run %s: %s", self.flow_run_id, message)
        try:
            self.client.set_flow_run_state(self.flow_run_id, "Failed", message=message[:4000])
        except Exception as exc:  # unreachable, or ended meanwhile: the log says why
            logger.error("flow run %s: could not record Failed: %s", self.flow_run_id, exc)
        return Failed(message, result=final.result)

    def _remember_secret_parameters(self, parameters: Mapping[str, Any]) -> None:
        """Values of ``Parameter(secret=True)`` (given, else the default) are secrets of
        this process from now on: masked wherever they would leave it."""
        values = []
        for param in self.flow.parameters():
            if getattr(param, "secret", False):
                value = parameters.get(param.name, param.default)
                if value is not None:
                    values.append(value if isinstance(value, str) else str(value))
        remember_secrets(values)

    def _run_token(self) -> str | None:
        """A per-run token for worker processes when this runner has a key (they report
        with it instead of needing the key); None without keys or from an older server."""
        if not getattr(self.client, "has_key", False):
            return None
        try:
            return str(self.client.run_token(str(self.flow_run_id))["token"])
        except Exception as exc:
            logger.warning(
                "flow run %s: no per-run token for worker processes (%s); they report with "
                "their own HEADRACE__API__KEY",
                self.flow_run_id,
                exc,
            )
            return None

    def _attach_log_handler(self, reporter: Reporter) -> BackendLogHandler | None:
        from headrace.configuration import config

        if not config.logging.get("log_to_backend", True):
            return None
        names = getattr(getattr(self.flow, "storage", None), "secrets", None) or ()
        handler = BackendLogHandler(reporter, secret_values(names))
        logging.getLogger("headrace").addHandler(handler)
        return handler

    def _reconcile(self, final: State, listener: TaskStateListener) -> None:
        """Report final task states the listener did not see. Tasks that ran in worker
        processes were reported from there (see :mod:`~headrace.client.backend.worker`);
        what the server already holds is not sent again, so only what a worker could not
        report (it died, or its server was unreachable) is settled here."""
        results = final.result if isinstance(final.result, dict) else {}
        reporter = listener.reporter
        assert reporter is not None
        todo: list[tuple[str, int, State, str]] = []

        def settle(slug: str, index: int, state: State, name: str) -> None:
            seen = listener.reported.get((slug, index), "Pending")
            if seen == type(state).__name__ or (
                isinstance(state, Pending) and (slug, index) not in listener.reported
            ):
                return
            todo.append((slug, index, state, name))

        for task, state in results.items():
            given = self._given.get(task)
            if given is state:
                continue
            slug = self.flow.slugs.get(task) or task.name
            if isinstance(state, Mapped):
                # children reused from the earlier attempt are on the server already
                reused = {id(c) for c in given.map_states} if isinstance(given, Mapped) else ()
                for index, child in enumerate(state.map_states):
                    if id(child) not in reused:
                        settle(slug, index, child, task.name)
            settle(slug, -1, state, task.name)
        if not todo:
            return
        on_server = (
            server_task_states(self.client, str(self.flow_run_id)) if listener.shipped else {}
        )
        missed = 0
        for slug, index, state, name in todo:
            key = (slug, index)
            seen = listener.reported.get(key) or on_server.get(key, "Pending")
            if seen == type(state).__name__:
                continue  # a worker reported it already
            if listener.shipped and key not in listener.reported:
                missed += 1
            if not is_allowed(seen, type(state).__name__) and is_allowed(seen, "Running"):
                # the server only saw it Pending: pass through Running as the engine did
                reporter.task_state(slug, index, Running(timestamp=state.timestamp), name, None)
            reporter.task_state(slug, index, state, name, None)
        if missed:
            # visible on the run (and in the UI's log view): the workers could not report
            logger.warning(
                "flow run %s: %d task state(s) run in worker processes never reached the "
                "server from them (their reports were refused or the server was unreachable; "
                "their log lines are missing). Settled from the runner. Workers of a server "
                "with API keys report with the runner's per-run token, or need "
                "HEADRACE__API__KEY (e.g. a plain `dask worker`).",
                self.flow_run_id,
                missed,
            )
