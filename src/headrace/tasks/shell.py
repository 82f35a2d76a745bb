"""``ShellTask``: run a shell command as a task.

The command (set on the task or passed when it is called) runs in ``shell`` (bash by
default), after the ``helper_script`` when there is one, with the process's environment
plus ``env``. The task returns the last line of standard output, or every line with
``return_all=True`` (``None``/``[]`` when there is none). A non-zero exit ends the task
``Failed`` with a message that names the exit code and the tail of standard error;
``log_stderr=True`` also logs all of standard error, ``stream_output`` logs each output
line as it comes (at INFO, or at the level it names). A task run that is interrupted (its
timeout, the flow run stopped) kills the command.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from typing import Any

from headrace.core.task import Task
from headrace.engine.signals import FAIL
from headrace.tasks.errors import MissingCommandError

__all__ = ["ShellTask"]

_TAIL_LINES = 10


class ShellTask(Task):
    """A task that runs ``command`` in ``shell`` and returns its output (Prefect's
    ``ShellTask``: ``command``, ``env``, ``helper_script``, ``shell``, ``return_all``,
    ``log_stderr``, ``stream_output``)."""

    __slots__ = (
        "command",
        "env",
        "helper_script",
        "log_stderr",
        "return_all",
        "shell",
        "stream_output",
    )

    def __init__(
        self,
        command: str | None = None,
        env: Mapping[str, str] | None = None,
        helper_script: str | None = None,
        shell: str = "bash",
        return_all: bool = False,
        log_stderr: bool = False,
        stream_output: bool | int | str = False,
        **kwargs: Any,
    ) -> None:
        self.command = command
        self.env = dict(env or {})
        self.helper_script = helper_script
        self.shell = shell
        self.return_all = return_all
        self.log_stderr = log_stderr
        self.stream_output = stream_output
        super().__init__(**kwargs)

    def run(
        self,
        command: str | None = None,
        env: Mapping[str, str] | None = None,
        helper_script: str | None = None,
    ) -> Any:
        command = command if command is not None else self.command
        if not command:
            raise MissingCommandError(
                f"ShellTask {self.name!r} has no command: set command= on the task or pass it"
            )
        script = helper_script if helper_script is not None else self.helper_script
        full_env = {**os.environ, **self.env, **(env or {})}
        with tempfile.NamedTemporaryFile("w", prefix="headrace-shell-", suffix=".sh") as fh:
            fh.write(f"{script}\n{command}\n" if script else f"{command}\n")
            fh.flush()
            code, lines, stderr = self._execute([self.shell, fh.name], full_env)
        if code != 0:
            self._fail(code, stderr)
        if self.log_stderr and stderr:
            self.logger.info("stderr:\n%s", stderr.rstrip())
        if self.return_all:
            return lines
        non_empty = [line for line in lines if line.strip()]
        return non_empty[-1] if non_empty else None

    def _execute(self, argv: list[str], env: dict[str, str]) -> tuple[int, list[str], str]:
        """Run ``argv``: its exit code, output lines (logged as they come when streaming)
        and standard error. A run interrupted here (a timeout, the flow run stopped)
        kills the command rather than leaving it behind."""
        level = self._stream_level()
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # its own process group: a kill reaches its children
        )
        out, err = proc.stdout, proc.stderr
        assert out is not None and err is not None
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(err.read()), daemon=True)
        reader.start()
        lines: list[str] = []
        try:
            while True:
                # Wait in short steps, so an interruption (timeout, stop) lands between them.
                ready, _, _ = select.select([out], [], [], 0.2)
                if not ready:
                    continue
                raw = out.readline()
                if not raw:
                    break
                line = raw.rstrip("\n").rstrip("\r")
                lines.append(line)
                if level is not None:
                    self.logger.log(level, line)
            code = proc.wait()
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            reader.join(5)
            out.close()
        return code, lines, "".join(errors)

    def _stream_level(self) -> int | None:
        """The level output lines are logged at, or ``None`` when they are not."""
        if not self.stream_output:
            return None
        level = self.stream_output
        if isinstance(level, str):
            level = logging.getLevelName(level.upper())
        if not isinstance(level, int) or isinstance(level, bool):
            level = logging.INFO
        return level

    def _fail(self, code: int, stderr: str) -> None:
        err_lines = stderr.rstrip().splitlines()
        if self.log_stderr and err_lines:
            self.logger.error("stderr:\n%s", "\n".join(err_lines))
        tail = "\n".join(err_lines[-_TAIL_LINES:])
        message = f"ShellTask {self.name!r}: command failed with exit code {code}"
        raise FAIL(f"{message}; stderr:\n{tail}" if tail else message)
