"""``ShellTask``: run a shell command as a task.

The command (set on the task or passed when it is called) runs in ``shell`` (bash by
default), after the ``helper_script`` when there is one, with the process's environment
plus ``env``. The task returns the last line of standard output, or every line with
``return_all=True`` (``None``/``[]`` when there is none). A non-zero exit ends the task
``Failed`` with a message that names the exit code and the tail of standard error;
``log_stderr=True`` also logs all of standard error, ``stream_output`` logs each output
line (at INFO, or at the level it names).
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
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
            done = subprocess.run(
                [self.shell, fh.name], capture_output=True, text=True, env=full_env, check=False
            )
        lines = [line.rstrip("\r") for line in done.stdout.splitlines()]
        self._stream(lines)
        if done.returncode != 0:
            self._fail(done.returncode, done.stderr)
        if self.log_stderr and done.stderr:
            self.logger.info("stderr:\n%s", done.stderr.rstrip())
        if self.return_all:
            return lines
        non_empty = [line for line in lines if line.strip()]
        return non_empty[-1] if non_empty else None

    def _stream(self, lines: list[str]) -> None:
        if not self.stream_output:
            return
        level = self.stream_output
        if isinstance(level, str):
            level = logging.getLevelName(level.upper())
        if not isinstance(level, int) or isinstance(level, bool):
            level = logging.INFO
        for line in lines:
            self.logger.log(level, line)

    def _fail(self, code: int, stderr: str) -> None:
        err_lines = stderr.rstrip().splitlines()
        if self.log_stderr and err_lines:
            self.logger.error("stderr:\n%s", "\n".join(err_lines))
        tail = "\n".join(err_lines[-_TAIL_LINES:])
        message = f"ShellTask {self.name!r}: command failed with exit code {code}"
        raise FAIL(f"{message}; stderr:\n{tail}" if tail else message)
