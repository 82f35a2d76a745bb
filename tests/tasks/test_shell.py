"""``ShellTask`` runs real shell commands (bash) on every executor."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from headrace import Flow, Parameter
from headrace.engine import state as s
from headrace.tasks.shell import ShellTask

HELPER = 'greet() { echo "hello $1"; }'


def test_returns_the_last_line_or_every_line(executor: Any, tmp_path: Path) -> None:
    with Flow("shell") as flow:
        last = ShellTask(name="last")(command="echo one; echo two; echo")
        every = ShellTask(name="all", return_all=True)(command="printf 'a\\nb\\n'")
        silent = ShellTask(name="silent")(command="true")
    state = flow.run(executor=executor)
    assert state.result[last].result == "two"
    assert state.result[every].result == ["a", "b"]
    assert state.result[silent].result is None


def test_env_helper_script_and_a_command_from_upstream(executor: Any, tmp_path: Path) -> None:
    greeter = ShellTask(helper_script=HELPER, env={"WHO": "world"})
    with Flow("shell inputs") as flow:
        name = Parameter("name")
        one = greeter(command="greet $WHO")
        two = greeter(command=name, env={"WHO": "again"})
    state = flow.run(name="greet $WHO", executor=executor)
    assert state.result[one].result == "hello world"
    assert state.result[two].result == "hello again"


def test_a_non_zero_exit_fails_naming_the_code_and_the_stderr_tail(executor: Any) -> None:
    script = "for i in $(seq 1 30); do echo line-$i >&2; done; exit 7"
    with Flow("shell failure") as flow:
        bad = ShellTask(name="bad")(command=script)
        after = ShellTask(name="after")(command="echo never", upstream_tasks=[bad])
    state = flow.run(executor=executor)
    failed = state.result[bad]
    assert type(failed) is s.Failed
    assert "exit code 7" in failed.message
    assert "line-30" in failed.message and "line-21" in failed.message
    assert "line-20" not in failed.message  # only the tail
    assert isinstance(state.result[after], s.TriggerFailed)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_log_stderr_and_stream_output_log_through_the_task_logger() -> None:
    with Flow("shell logs") as flow:
        ShellTask(name="noisy", log_stderr=True, stream_output=True)(
            command="echo out-line; echo err-line >&2"
        )
    records = _Records()
    logger = logging.getLogger("headrace.task.noisy")
    logger.addHandler(records)
    logger.setLevel(logging.INFO)  # the tests' logging level is WARNING
    try:
        assert flow.run().is_successful()
    finally:
        logger.removeHandler(records)
        logger.setLevel(logging.NOTSET)
    assert "out-line" in records.lines
    assert any("err-line" in line for line in records.lines)


def test_no_command_fails_the_task_naming_it() -> None:
    with Flow("no command") as flow:
        empty = ShellTask(name="empty")()
    state = flow.run()
    assert state.result[empty].is_failed()
    assert "'empty' has no command" in state.result[empty].message


def test_a_timed_out_shell_task_kills_its_command(tmp_path: Path) -> None:
    import os
    import time

    pid_file = tmp_path / "pid"
    script = f"echo $$ > {pid_file}; sleep 30"
    with Flow("shell timeout") as flow:
        slow = ShellTask(name="slow", timeout=1)(command=script)
    state = flow.run()
    assert isinstance(state.result[slow], s.TimedOut)
    pid = int(pid_file.read_text())
    for _ in range(100):  # the helper thread kills it once interrupted
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        raise AssertionError("the shell command outlived its timed-out task")
