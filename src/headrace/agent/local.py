"""``LocalAgent``: each flow run in its own ``python -m headrace execute flow-run`` process.

The agent has this host's name as a label unless ``hostname_label=False``
(``--no-hostname-label``): flows in ``Local`` storage carry the name of the host their files
are on as a label, so only an agent on that host takes their runs.

The process gets the agent's environment plus the run config's ``env`` (``LocalRun.env``)
and runs in its ``working_dir``; what it prints is read line by line into the agent's log
(and kept, the last lines, for the failure message if it dies).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from headrace.agent.base import Agent, RunHandle
from headrace.agent.errors import DeploymentFailedError
from headrace.agent.storage_check import allowed_roots, check_storage

__all__ = ["LocalAgent", "ProcessHandle"]


class ProcessHandle(RunHandle):
    """A flow run's subprocess, its output pumped into the agent's logger."""

    def __init__(
        self,
        flow_run_id: str,
        process: subprocess.Popen[str],
        logger: Any,
        secrets: list[str] | None = None,
    ) -> None:
        super().__init__(flow_run_id)
        self.secrets = list(secrets or ())
        self.process = process
        self.logger = logger
        self._orphans_ended = False
        self._reader = threading.Thread(
            target=self._pump, name=f"output-{flow_run_id[:8]}", daemon=True
        )
        self._reader.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = self.masked(line.rstrip("\n"))
            self.output.append(line)
            self.logger.info("[flow run %s] %s", self.flow_run_id[:8], line)

    def poll(self) -> int | None:
        code = self.process.poll()
        if code is not None:
            self._end_orphans()
            self._reader.join(5)
        return code

    def _end_orphans(self) -> None:
        """SIGKILL what the run's process left in its process group when it ended (once):
        the workers of a process pool outlive a run process killed with SIGKILL, would go
        on running and reporting its tasks, and hold its output pipe open (the agent's
        reader would wait on them). The group's id stays reserved while any member
        lives, so this reaches only what the run started."""
        if self._orphans_ended:
            return
        self._orphans_ended = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL 10 s later if still alive."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
                self.process.wait(10)

    def terminate(self) -> None:
        """SIGTERM to the run's process only: it stops its run and its children itself."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the whole process group (the run's process and whatever it started)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def cleanup(self) -> None:
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


class LocalAgent(Agent):
    """Runs flow runs as subprocesses of this machine."""

    agent_type = "local"

    def __init__(
        self,
        *args: Any,
        env: dict[str, str] | None = None,
        hostname_label: bool = True,
        hostname: str | None = None,
        storage_roots: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.env = dict(env or {})
        #: Directories Local storage may load from (None: ``agent.storage_roots``).
        self.storage_roots = storage_roots
        #: This machine's name (``hostname`` overrides it, e.g. for a container's agent).
        self.hostname = str(hostname or socket.gethostname())
        if hostname_label:  # the label Local storage puts on its flows (as Prefect 1 does)
            self.labels = sorted({*self.labels, self.hostname})

    def command(self, run: dict[str, Any]) -> list[str]:
        return [sys.executable, "-m", "headrace", "execute", "flow-run", "--id", run["id"]]

    def deploy_flow(self, run: dict[str, Any]) -> RunHandle:
        check_storage(self.flow_document(run), self.hostname, allowed_roots(self.storage_roots))
        config = run.get("run_config") or {}
        env = {**os.environ, **self.env, **self.run_environment(run)}
        env.setdefault("PYTHONUNBUFFERED", "1")
        cwd = config.get("working_dir") or None
        if cwd is not None and not os.path.isdir(cwd):
            raise DeploymentFailedError(
                f"flow run {run['id']}: its LocalRun working_dir {cwd!r} does not exist"
            )
        process = subprocess.Popen(
            self.command(run),
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        return ProcessHandle(run["id"], process, self.logger, self.run_secrets(run, env))
