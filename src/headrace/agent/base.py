"""``Agent``: the loop every agent runs, whatever starts the flow runs' processes.

An agent registers with the server, then every ``agent.poll_interval`` seconds it
heartbeats (the answer lists its runs to cancel), claims due runs whose labels are all among
its own (at most ``agent.max_concurrent_runs`` running at once; claiming is atomic on the
server, so two agents never get one run), starts each with :meth:`Agent.deploy_flow`, and
watches what it started: a cancelled run's process is stopped and the run marked
``Cancelled``; a process that ends while its run is not finished marks the run ``Failed``
with the exit code and the last lines it printed.

Subclasses implement ``deploy_flow(run) -> RunHandle``.
"""

from __future__ import annotations

import collections
import socket
import threading
from collections.abc import Iterable
from typing import Any

from headrace.agent.errors import DeploymentFailedError
from headrace.client.errors import ClientError, NotFoundError
from headrace.utilities.logging import get_logger

__all__ = ["FINISHED", "Agent", "RunHandle"]

FINISHED = frozenset(
    {"Success", "Failed", "Cancelled", "TimedOut", "TriggerFailed", "Skipped", "Cached", "Mapped"}
)


class RunHandle:
    """What an agent started for one flow run: ask whether it ended, stop it, read its output."""

    def __init__(self, flow_run_id: str, output_lines: int = 200) -> None:
        self.flow_run_id = flow_run_id
        self.output: collections.deque[str] = collections.deque(maxlen=output_lines)

    def poll(self) -> int | None:
        """The exit code once ended, else None."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop it now (cancellation)."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Release what is left once it ended (containers, pipes)."""

    def last_output(self, lines: int = 40) -> str:
        return "\n".join(list(self.output)[-lines:])


class Agent:
    """Polls the server for flow runs and starts them. ``labels`` decide which runs it may
    take (an agent with none takes only unlabeled runs)."""

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
    ) -> None:
        from headrace.client import Client
        from headrace.configuration import config

        settings = config.get("agent", {})
        self.labels = sorted(set(labels if labels is not None else settings.get("labels", [])))
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
        self.logger = get_logger(f"agent.{self.agent_type}")
        self.agent_id: str | None = None
        self.runs: dict[str, RunHandle] = {}
        #: Handles of the last runs that ended (their output), newest last.
        self.recent: collections.OrderedDict[str, RunHandle] = collections.OrderedDict()
        self.started: list[str] = []
        self._stop = threading.Event()
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
            }
        )
        key = self.api_key
        if key:
            env["HEADRACE__API__KEY"] = key
        return env

    # --- the loop ------------------------------------------------------------------------
    def register(self) -> str:
        answer = self.client.register_agent(self.name, self.labels, type=self.agent_type)
        self.agent_id = str(answer["id"])
        self.logger.info(
            "agent %s (%s) registered with labels %s", self.name, self.agent_id, self.labels
        )
        return self.agent_id

    def step(self) -> int:
        """One round: heartbeat and cancellations, watch running runs, claim and start new
        ones. Returns how many runs it started."""
        if self.agent_id is None:
            self.register()
        assert self.agent_id is not None
        try:
            answer = self.client.agent_heartbeat(self.agent_id)
        except NotFoundError:  # the server forgot this agent (a new database): register again
            self.register()
            assert self.agent_id is not None
            answer = self.client.agent_heartbeat(self.agent_id)
        cancel = answer.get("cancel_flow_run_ids", [])
        for run_id in cancel:
            self._cancel(run_id)
        self.watch()
        room = self.max_concurrent_runs - len(self.runs)
        if room <= 0:
            return 0
        started = 0
        for run in self.client.claim_flow_runs(self.agent_id, limit=room):
            self._start(run)
            started += 1
        return started

    def _start(self, run: dict[str, Any]) -> None:
        run_id = run["id"]
        self.logger.info("agent %s: starting flow run %s (%s)", self.name, run_id, run.get("name"))
        try:
            self.runs[run_id] = self.deploy_flow(run)
            self.started.append(run_id)
        except Exception as exc:
            text = str(exc)
            if run_id not in text:
                text = f"{type(self).__name__} could not start flow run {run_id}: {text}"
            error = DeploymentFailedError(text)
            self.logger.error("%s", error)
            self._mark(run_id, "Failed", str(error))

    def _mark(self, run_id: str, state: str, message: str) -> None:
        try:
            current = self.client.get_flow_run(run_id)["state"]
            if current in FINISHED:
                return
            self.client.set_flow_run_state(run_id, state, message=message[-4000:])
        except ClientError as exc:
            self.logger.warning(
                "agent %s: could not mark flow run %s %s: %s", self.name, run_id, state, exc
            )

    def _cancel(self, run_id: str) -> None:
        handle = self.runs.pop(run_id, None)
        if handle is not None:
            self.logger.info("agent %s: stopping cancelled flow run %s", self.name, run_id)
            handle.stop()
            handle.cleanup()
        self._mark(run_id, "Cancelled", f"cancelled; stopped by agent {self.name}")

    def watch(self) -> None:
        """Forget runs whose process ended; one that ended before its run finished fails it."""
        for run_id, handle in list(self.runs.items()):
            code = handle.poll()
            if code is None:
                continue
            del self.runs[run_id]
            try:
                state = self.client.get_flow_run(run_id)["state"]
            except ClientError as exc:
                self.logger.warning(
                    "agent %s: cannot check flow run %s: %s", self.name, run_id, exc
                )
                state = "unknown"
            if state not in FINISHED and state != "Scheduled":
                message = (
                    f"the flow run's process exited with code {code} without finishing the run"
                )
                tail = handle.last_output()
                if tail:
                    message += f"; its last output:\n{tail}"
                self.logger.error("agent %s: flow run %s: %s", self.name, run_id, message)
                self._mark(run_id, "Failed", message)
            handle.cleanup()
            self.recent[run_id] = handle
            while len(self.recent) > 50:
                self.recent.popitem(last=False)

    def run(self) -> None:
        """Poll until :meth:`stop` (or Ctrl-C); running flow runs are left to finish."""
        while not self._stop.is_set():
            try:
                self.step()
            except ClientError as exc:
                self.logger.warning("agent %s: server unreachable (%s); retrying", self.name, exc)
            except Exception:
                self.logger.exception("agent %s: unexpected error; continuing", self.name)
            self._stop.wait(self.poll_interval)

    def start(self) -> Agent:
        """Run the loop in a daemon thread (``headrace up`` and tests)."""
        self._thread = threading.Thread(
            target=self.run, name=f"headrace-agent-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, wait: bool = True, stop_runs: bool = False) -> None:
        """Stop polling; with ``stop_runs`` also stop the flow runs it started."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(30)
        if stop_runs:
            for handle in self.runs.values():
                handle.stop()
                handle.cleanup()
            self.runs.clear()
