"""``Agent``: the loop every agent runs, whatever starts the flow runs' processes.

An agent registers with the server, then every ``agent.poll_interval`` seconds it
heartbeats (the answer lists its runs to cancel), claims due runs whose labels are all among
its own (at most ``agent.max_concurrent_runs`` running at once; claiming is atomic on the
server, so two agents never get one run), starts each with :meth:`Agent.deploy_flow`, and
watches what it started. Its claim long-polls: the server holds it until a run becomes
claimable or the next heartbeat is due (``wait``), so a new run starts at once rather than
at the next poll; a server that does not know ``wait`` is polled as before. While it has no
room for more runs it sleeps until one of its runs ends or the next heartbeat. It watches
what it started (:meth:`Agent.watch`): a process that ends while its run is not finished is reported
lost (``POST /flow_runs/{id}/lost``) with how it ended (exit code or signal) and the last
lines it printed, and the server retries the run while its ``max_retries`` allows, else
fails it. Its heartbeats list the runs it holds, so a run it claimed but has not started
yet is not mistaken for one whose agent died.

Stopping runs is graceful: the agent asks the run's process to stop
(:meth:`RunHandle.terminate`, SIGTERM), the process ends its run itself (the task in flight
and the flow run end ``Cancelled``, the environment's ``on_exit`` runs; see
:mod:`headrace.client.backend.cancel`), and only if it is still alive
``agent.stop_grace_period`` seconds later is it killed (:meth:`RunHandle.kill`, the whole
process group). The agent never waits for that in its loop: it keeps polling meanwhile.

- A cancelled run (the server lists it in the heartbeat answer) ends ``Cancelled``.
- When the agent itself stops (:meth:`Agent.stop` with ``stop_runs``, which ``headrace agent
  ... start`` and ``headrace up`` do on Ctrl-C or SIGTERM), each run still in flight is
  stopped the same way and ends ``Failed`` with a message saying the agent stopped. It is
  deliberately not re-queued: the run was interrupted in the middle, so its tasks may have
  had half-done side effects, and silently starting it again on another agent would repeat
  them; an agent stop is an operator's act, not a lost runner (those the server's reaper
  reschedules while the run has retries). ``headrace restart`` re-runs only what did not
  succeed, from checkpointed results.

Subclasses implement ``deploy_flow(run) -> RunHandle``.
"""

from __future__ import annotations

import collections
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from headrace.agent.errors import DeploymentFailedError
from headrace.agent.handle import RunHandle
from headrace.client.errors import (
    ClientError,
    NotFoundError,
    ServerUnavailableError,
    ValidationError,
)
from headrace.utilities.logging import get_logger
from headrace.utilities.secrets import environment_secrets, redact
from headrace.wire.names import FINISHED_STATE_NAMES

__all__ = ["FINISHED", "MAX_CLAIM_WAIT", "Agent", "RunHandle"]

#: The longest an agent's claim waits on the server (keep under ``api.timeout``).
MAX_CLAIM_WAIT = 8.0

FINISHED = FINISHED_STATE_NAMES


class Agent:
    """Polls the server for flow runs and starts them. ``labels`` decide which runs it may
    take (an agent with none takes only unlabeled runs); ``projects`` (names or ids) limit it
    to those projects' runs (default: every project its API key sees)."""

    agent_type = "base"

    def __init__(
        self,
        labels: Iterable[str] | None = None,
        name: str | None = None,
        api_url: str | None = None,
        client: Any = None,
        poll_interval: float | None = None,
        max_concurrent_runs: int | None = None,
        api_key: str | None = None,
        stop_grace_period: float | None = None,
        projects: Iterable[str] | None = None,
    ) -> None:
        from headrace.client import Client
        from headrace.configuration import config

        settings = config.get("agent", {})
        self.labels = sorted(set(labels if labels is not None else settings.get("labels", [])))
        #: Projects (names or ids) whose runs it takes; empty: every project its key sees.
        self.projects = sorted(
            set(projects if projects is not None else settings.get("projects", []))
        )
        self.name = name or f"{self.agent_type}-{socket.gethostname()}"
        self.api_key = api_key or config.get("api", {}).get("key") or None
        self.client = client or Client(api_url, self.api_key)
        self.api_url = self.client.api_url
        self.poll_interval = float(
            settings.get("poll_interval", 2.0) if poll_interval is None else poll_interval
        )
        self.max_concurrent_runs = int(
            settings.get("max_concurrent_runs", 8)
            if max_concurrent_runs is None
            else max_concurrent_runs
        )
        self.stop_grace_period = float(
            settings.get("stop_grace_period", 30.0)
            if stop_grace_period is None
            else stop_grace_period
        )
        self.logger = get_logger(f"agent.{self.agent_type}")
        self.agent_id: str | None = None
        self.runs: dict[str, RunHandle] = {}
        #: Runs asked to stop: run id -> (monotonic deadline to kill, why: cancel|shutdown).
        self.stopping: dict[str, tuple[float, str]] = {}
        #: Handles of the last runs that ended (their output), newest last.
        self.recent: collections.OrderedDict[str, RunHandle] = collections.OrderedDict()
        self.started: list[str] = []
        #: Flow documents by flow id (a few, newest last): storage secrets and checks.
        self._documents: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self._stop = threading.Event()
        #: Set when one of its runs may have ended (handles set it): the loop looks at once.
        self.wake = threading.Event()
        #: Whether claims long-poll (False once the server refused ``wait``: an old server).
        self.long_poll = True
        self._thread: threading.Thread | None = None

    # --- what subclasses implement -------------------------------------------------------
    def deploy_flow(self, run: dict[str, Any]) -> RunHandle:
        """Start flow run ``run`` (the API's flow-run object); returns its handle."""
        raise NotImplementedError

    def run_environment(self, run: dict[str, Any]) -> dict[str, str]:
        """Environment variables every flow-run process gets: run config ``env`` first, then
        what headrace needs (API URL, flow run id, the backend runner)."""
        from headrace.client.backend.execute import RUNNER_CLASS

        env = {str(k): str(v) for k, v in ((run.get("run_config") or {}).get("env") or {}).items()}
        env.update(
            {
                "HEADRACE__API__URL": self.api_url,
                "HEADRACE__CONTEXT__FLOW_RUN_ID": run["id"],
                "HEADRACE__ENGINE__FLOW_RUNNER__DEFAULT_CLASS": RUNNER_CLASS,
                "HEADRACE__AGENT__STOP_GRACE_PERIOD": repr(self.stop_grace_period),
            }
        )
        key = self.api_key
        if key:
            env["HEADRACE__API__KEY"] = key
        return env

    def flow_document(self, run: dict[str, Any]) -> dict[str, Any]:
        """The registered document of ``run``'s flow (cached by flow id; empty when the
        server cannot give it)."""
        flow_id = str(run.get("flow_id") or "")
        if not flow_id:
            return {}
        document = self._documents.get(flow_id)
        if document is None:
            try:
                document = dict(self.client.get_flow(flow_id).get("document") or {})
            except ClientError as exc:
                self.logger.warning("agent %s: cannot read flow %s: %s", self.name, flow_id, exc)
                return {}
            self._documents[flow_id] = document
            while len(self._documents) > 64:
                self._documents.popitem(last=False)
        return document

    def run_secrets(self, run: dict[str, Any], env: dict[str, str]) -> list[str]:
        """The secret values a run's process knows, masked in all the agent shows of it:
        the variables its flow's storage names as ``secrets`` and every secret-named
        variable (``HEADRACE__API__KEY``, ``...TOKEN``, ``...PASSWORD``...) of ``env``."""
        storage = self.flow_document(run).get("storage") or {}
        names = [str(n) for n in storage.get("secrets") or ()]
        values = [env[name] for name in names if env.get(name)]
        return sorted(set(values) | set(environment_secrets(env)), key=len, reverse=True)

    # --- the loop ------------------------------------------------------------------------
    def register(self) -> str:
        answer = self.client.register_agent(self.name, self.labels, type=self.agent_type)
        self.agent_id = str(answer["id"])
        self.logger.info(
            "agent %s (%s) registered with labels %s%s",
            self.name,
            self.agent_id,
            self.labels,
            f", for projects {self.projects}" if self.projects else "",
        )
        return self.agent_id

    def register_when_up(
        self, say: Callable[[str], None] | None = None, every: float = 5.0
    ) -> str | None:
        """:meth:`register`, waiting for a server that is not up yet: retried with backoff
        (up to 2 s apart), ``say`` told once every ``every`` seconds what it waits for.
        Returns the agent's id, or None when :meth:`stop` was called meanwhile."""
        delay, said = 0.2, float("-inf")
        while not self._stop.is_set():
            try:
                return self.register()
            except ServerUnavailableError as exc:
                now = time.monotonic()
                if now - said >= every:
                    said = now
                    message = (
                        f"waiting for the headrace server at {self.api_url} "
                        f"(not reachable yet: {exc}); retrying"
                    )
                    (say or self.logger.warning)(message)
                self._stop.wait(delay)
                delay = min(delay * 2, 2.0)
        return None

    def step(self, wait: float = 0.0, heartbeat: bool = True) -> int:
        """One round: heartbeat and cancellations (unless ``heartbeat`` is False), watch
        running runs, claim and start new ones (the claim waiting up to ``wait`` seconds on
        the server for a run when none is claimable yet). Returns how many runs it started."""
        if self.agent_id is None:
            self.register()
        assert self.agent_id is not None
        if heartbeat:
            try:
                answer = self.client.agent_heartbeat(self.agent_id, list(self.runs))
            except NotFoundError:  # the server forgot this agent (a new database): register
                self.register()
                assert self.agent_id is not None
                answer = self.client.agent_heartbeat(self.agent_id, list(self.runs))
            cancel = answer.get("cancel_flow_run_ids", [])
            for run_id in cancel:
                self._cancel(run_id)
        self.watch()
        room = self.max_concurrent_runs - len(self.runs)
        if room <= 0:
            return 0
        started = 0
        for run in self._claim(room, wait if self.long_poll else 0.0):
            if self._stop.is_set():  # stopped while the claim waited: leave it to others
                self._release(run)
                continue
            self._start(run)
            started += 1
        return started

    def _claim(self, room: int, wait: float) -> list[dict[str, Any]]:
        scope: dict[str, Any] = {"projects": self.projects} if self.projects else {}
        assert self.agent_id is not None
        if wait > 0:
            scope["wait"] = round(min(wait, MAX_CLAIM_WAIT), 3)
        try:
            return list(self.client.claim_flow_runs(self.agent_id, limit=room, **scope))
        except ValidationError as exc:
            if "wait" not in scope or "wait" not in str(exc):
                raise
            self.logger.info("agent %s: the server does not long-poll claims; polling", self.name)
            self.long_poll = False
            scope.pop("wait")
            return list(self.client.claim_flow_runs(self.agent_id, limit=room, **scope))

    def _release(self, run: dict[str, Any]) -> None:
        """Give back a run claimed after :meth:`stop` was asked (never started): Scheduled
        again, for any agent to take."""
        try:
            self.client.set_flow_run_state(
                run["id"],
                "Scheduled",
                message=f"agent {self.name} stopped before starting it; it waits for an agent",
            )
            self.logger.info("agent %s: stopping; gave back flow run %s", self.name, run["id"])
        except ClientError as exc:
            self.logger.warning(
                "agent %s: could not give back flow run %s: %s", self.name, run["id"], exc
            )

    def _start(self, run: dict[str, Any]) -> None:
        run_id = run["id"]
        self.logger.info("agent %s: starting flow run %s (%s)", self.name, run_id, run.get("name"))
        try:
            handle = self.deploy_flow(run)
            handle.on_end = self.wake.set
            self.runs[run_id] = handle
            self.started.append(run_id)
        except Exception as exc:
            text = str(exc)
            if run_id not in text:
                text = f"{type(self).__name__} could not start flow run {run_id}: {text}"
            error = DeploymentFailedError(redact(text))
            self.logger.error("%s", error)
            self._mark(run_id, "Failed", str(error))

    def _mark(self, run_id: str, state: str, message: str, secrets: Iterable[str] = ()) -> None:
        """Record how one of this agent's runs ended, unless it finished already or is not
        this agent's any more (restarted or rescheduled meanwhile, maybe claimed again);
        ``message`` masked (the agent's and the run's ``secrets``) before it leaves the agent."""
        message = redact(message, secrets)
        try:
            run = self.client.get_flow_run(run_id)
            if run["state"] in FINISHED or run.get("agent_id") != self.agent_id:
                return
            self.client.set_flow_run_state(run_id, state, message=message[-4000:])
        except ClientError as exc:
            self.logger.warning(
                "agent %s: could not mark flow run %s %s: %s", self.name, run_id, state, exc
            )

    def _lost(self, run_id: str, message: str) -> None:
        """The run's process died: the server retries the run or fails it."""
        try:
            run = self.client.flow_run_lost(run_id, message[:4000], self.agent_id)
        except ClientError as exc:
            self.logger.warning(
                "agent %s: could not report flow run %s lost: %s", self.name, run_id, exc
            )
            return
        if run.get("state") == "Scheduled":
            self.logger.info(
                "agent %s: flow run %s rescheduled: %s",
                self.name,
                run_id,
                (run.get("state_message") or "")[:200],
            )

    def _cancel(self, run_id: str) -> None:
        if run_id in self.runs:
            if run_id not in self.stopping:
                self.logger.info("agent %s: stopping cancelled flow run %s", self.name, run_id)
                self._terminate(run_id, "cancel")
            return
        self._mark(run_id, "Cancelled", f"cancelled; stopped by agent {self.name}")

    def _terminate(self, run_id: str, why: str) -> None:
        """Ask a run's process to stop; :meth:`watch` kills it after the grace period."""
        self.stopping[run_id] = (time.monotonic() + self.stop_grace_period, why)
        try:
            self.runs[run_id].terminate()
        except Exception as exc:
            self.logger.warning("agent %s: stopping flow run %s: %s", self.name, run_id, exc)

    def _ended(self, run_id: str, handle: RunHandle, code: int) -> None:
        """Settle a run whose process ended (its own final state, else the agent's)."""
        why = self.stopping.pop(run_id, (0.0, ""))[1]
        try:
            state = self.client.get_flow_run(run_id)["state"]
        except ClientError as exc:
            self.logger.warning("agent %s: cannot check flow run %s: %s", self.name, run_id, exc)
            state = "unknown"
        if why:  # stopped: whatever it left running in its process group goes too
            handle.kill()
        if why == "cancel":
            self._mark(run_id, "Cancelled", f"cancelled; stopped by agent {self.name}")
        elif why == "shutdown":
            self._mark(
                run_id,
                "Failed",
                f"agent {self.name} stopped while the run was in flight (process exit code "
                f"{code}); restart it to run what did not finish",
            )
        elif state not in FINISHED and state != "Scheduled":
            message = f"the flow run's process {handle.describe_exit(code)} before the run finished"
            tail = handle.last_output()
            if tail:
                message += f"; its last output:\n{tail[-3000:]}"
            message = redact(message, handle.secrets)
            self.logger.error("agent %s: flow run %s: %s", self.name, run_id, message)
            self._lost(run_id, message)

    def watch(self) -> None:
        """Forget runs whose process ended (one that ended before its run finished fails
        it); kill the processes still alive after their stop's grace period."""
        for run_id, handle in list(self.runs.items()):
            code = handle.poll()
            if code is None:
                deadline, why = self.stopping.get(run_id, (None, ""))
                if deadline is not None and time.monotonic() >= deadline:
                    self.logger.warning(
                        "agent %s: flow run %s did not stop within %gs; killing it",
                        self.name,
                        run_id,
                        self.stop_grace_period,
                    )
                    self.stopping[run_id] = (float("inf"), why)
                    handle.kill()
                continue
            if self.runs.pop(run_id, None) is None:
                continue  # another thread (a second stop) settled it meanwhile
            self._ended(run_id, handle, code)
            handle.cleanup()
            self.recent[run_id] = handle
            while len(self.recent) > 50:
                self.recent.popitem(last=False)

    def stop_runs(self, grace: float | None = None) -> None:
        """Agent shutdown: ask every run in flight to stop, wait until they end (killing
        those alive after ``grace`` seconds, default ``stop_grace_period``), and mark the
        unfinished ones ``Failed`` (see the module docstring for why not re-queued)."""
        wait = self.stop_grace_period if grace is None else float(grace)
        if self.runs:
            self.logger.info(
                "agent %s: stopping %d flow run(s) in flight (grace %gs)",
                self.name,
                len(self.runs),
                wait,
            )
        for run_id in list(self.runs):
            if run_id not in self.stopping:
                self._terminate(run_id, "shutdown")
            self.stopping[run_id] = (time.monotonic() + wait, self.stopping[run_id][1])
        try:
            while self.runs:
                self.watch()
                if self.runs:
                    time.sleep(0.1)
        except KeyboardInterrupt:  # asked twice: do not wait any more
            for handle in self.runs.values():
                handle.kill()
            settle_by = time.monotonic() + 10
            while self.runs and time.monotonic() < settle_by:  # record how they ended
                self.watch()
                time.sleep(0.05)
            raise

    def run(self) -> None:
        """Poll until :meth:`stop` (or Ctrl-C); running flow runs are left to finish.

        A round heartbeats at most every ``poll_interval`` seconds; its claim waits on the
        server (long poll) until a run comes or the next heartbeat is due, and a round that
        started runs is followed at once by the next (there may be more). Without room for
        more runs, or when the server does not long-poll, it sleeps until the next
        heartbeat or until one of its runs ends (:attr:`wake`)."""
        next_beat = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            beat = now >= next_beat
            if beat:
                next_beat = now + self.poll_interval
            self.wake.clear()
            started, waited = 0, False
            try:
                room = self.max_concurrent_runs - len(self.runs)
                wait = max(next_beat - time.monotonic(), 0.0) if room > 0 else 0.0
                waited = self.long_poll and wait > 0.01
                started = self.step(wait=wait, heartbeat=beat)
            except ClientError as exc:
                self.logger.warning("agent %s: server unreachable (%s); retrying", self.name, exc)
                waited = False
            except Exception:
                self.logger.exception("agent %s: unexpected error; continuing", self.name)
                waited = False
            if started or (waited and self.long_poll):
                continue
            self.wake.wait(max(next_beat - time.monotonic(), 0.0))
            if self._stop.is_set():
                break

    def start(self) -> Agent:
        """Run the loop in a daemon thread (``headrace up`` and tests)."""
        self._thread = threading.Thread(
            target=self.run, name=f"headrace-agent-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stopping_requested(self) -> bool:
        """Whether :meth:`stop` was called (the loop ends after its current round)."""
        return self._stop.is_set()

    def stop(self, wait: bool = True, stop_runs: bool = False, grace: float | None = None) -> None:
        """Stop polling; with ``stop_runs`` also stop the flow runs it started (gracefully,
        see :meth:`stop_runs`)."""
        self._stop.set()
        self.wake.set()
        if wait and self._thread is not None:
            self._thread.join(30)
        if stop_runs:
            self.stop_runs(grace)
