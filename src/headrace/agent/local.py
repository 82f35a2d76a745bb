"""``LocalAgent``: each flow run in its own ``python -m headrace execute flow-run`` process.

With ``agent.warm_start`` (default true; ``warm_start=`` overrides it) that process is
forked from the agent's pre-imported template process (:mod:`headrace.agent.launcher`)
instead of started cold: the same process, group, environment, output, cancellation and
kill semantics, without ~0.3 s of imports per run. A run whose environment changes how an
interpreter starts (``PYTHONPATH``...) is started cold, as is every run while the template
is not up (being started, or started again after it died).

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
from typing import IO, Any, Protocol

from headrace.agent.base import Agent, RunHandle
from headrace.agent.errors import DeploymentFailedError
from headrace.agent.launcher import LauncherError, WarmLauncher, WarmProcess, warm_compatible
from headrace.agent.storage_check import allowed_roots, check_storage

__all__ = ["LocalAgent", "ProcessHandle", "RunProcess"]


class RunProcess(Protocol):
    """What a :class:`ProcessHandle` needs of a run's process: a ``subprocess.Popen`` (cold
    start) or a :class:`~headrace.agent.launcher.WarmProcess` (forked from the template)."""

    pid: int
    stdout: IO[str] | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...


class ProcessHandle(RunHandle):
    """A flow run's process (its own process group), its output pumped into the agent's
    logger."""

    def __init__(
        self,
        flow_run_id: str,
        process: RunProcess,
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

    @property
    def warm(self) -> bool:
        """Whether its process was forked from the warm launcher's template."""
        return isinstance(self.process, WarmProcess)

    def _pump(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                line = self.masked(line.rstrip("\n"))
                self.output.append(line)
                self.logger.info("[flow run %s] %s", self.flow_run_id[:8], line)
        finally:
            self.ended_maybe()

    def describe_exit(self, code: int) -> str:
        return getattr(self.process, "exit_description", None) or super().describe_exit(code)

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
        warm_start: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        from headrace.configuration import config

        self.env = dict(env or {})
        #: Directories Local storage may load from (None: ``agent.storage_roots``).
        self.storage_roots = storage_roots
        #: This machine's name (``hostname`` overrides it, e.g. for a container's agent).
        self.hostname = str(hostname or socket.gethostname())
        if hostname_label:  # the label Local storage puts on its flows (as Prefect 1 does)
            self.labels = sorted({*self.labels, self.hostname})
        if warm_start is None:
            warm_start = bool(config.get("agent", {}).get("warm_start", True))
        #: Forks runs from a pre-imported template process (None: every run starts cold).
        self.launcher: WarmLauncher | None = (
            WarmLauncher(self.logger, self.env) if warm_start and hasattr(os, "fork") else None
        )
        #: How many runs started warm and cold.
        self.warm_starts = 0
        self.cold_starts = 0

    def register(self) -> str:
        """Register, and start the warm launcher's template (it imports meanwhile)."""
        if self.launcher is not None and not self._stop.is_set():
            self.launcher.ensure_started()
        return super().register()

    def step(self, wait: float = 0.0, heartbeat: bool = True) -> int:
        """:meth:`Agent.step`, first starting a new template if the last one died (once its
        backoff passed)."""
        if self.launcher is not None and not self._stop.is_set():
            self.launcher.ensure_started()
        return super().step(wait=wait, heartbeat=heartbeat)

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
        secrets = self.run_secrets(run, env)
        warm = self._start_warm(run, env, cwd)
        if warm is not None:
            self.warm_starts += 1
            return ProcessHandle(run["id"], warm, self.logger, secrets)
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
        self.cold_starts += 1
        return ProcessHandle(run["id"], process, self.logger, secrets)

    def _start_warm(
        self, run: dict[str, Any], env: dict[str, str], cwd: str | None
    ) -> WarmProcess | None:
        """The run's process forked from the template; None when it must start cold (no
        template up, an environment a fork cannot apply, the template refused)."""
        launcher = self.launcher
        if launcher is None:
            return None
        if not launcher.ready():
            launcher.ensure_started()
            return None
        differ = warm_compatible(env, launcher.env)
        if differ:
            self.logger.info(
                "agent %s: flow run %s starts cold: its environment sets %s differently",
                self.name,
                run["id"],
                ", ".join(differ[:5]),
            )
            return None
        command = self.command(run)
        try:
            return launcher.launch(command[3:], env, cwd, command)
        except LauncherError as exc:
            self.logger.warning("agent %s: flow run %s starts cold: %s", self.name, run["id"], exc)
            return None

    def stop(self, wait: bool = True, stop_runs: bool = False, grace: float | None = None) -> None:
        """:meth:`Agent.stop`; once no run of it is left, its template process stops too
        (while runs are in flight it stays: it reports how they end)."""
        super().stop(wait=wait, stop_runs=stop_runs, grace=grace)
        if self.launcher is not None and not self.runs:
            self.launcher.close()
