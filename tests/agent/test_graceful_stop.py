"""Stopping flow runs gracefully: a cancelled run's process is asked to stop (SIGTERM), the
task it is blocked in and the flow run end ``Cancelled``, and the environment's ``on_exit``
runs before the process exits; a process that ignores the request is killed after
``agent.stop_grace_period``; an agent that stops mid-run ends its runs ``Failed``.

Real parts: a live server on SQLite, LocalAgents starting real ``headrace execute flow-run``
subprocesses, real signals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.agent.backend_support import register_script, wait_for, wait_for_state
from tests.support.headrace_server import LiveServer

from headrace.agent import LocalAgent
from headrace.agent.local import ProcessHandle
from headrace.client import Client

FLOWS = Path(__file__).parent / "flows"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _history(api: Client, run_id: str) -> list[str]:
    return [s["name"] for s in api.get_flow_run_states(run_id)]


def _tasks(api: Client, run_id: str) -> dict[str, dict[str, Any]]:
    return {t["task_name"]: t for t in api.get_task_runs(run_id)}


def _stoppable_script(executor: str, folder: Path) -> Path:
    """``flows/stoppable.py``, or for ``processes`` a copy of it in ``folder`` that runs on
    ``LocalDaskExecutor("processes", num_workers=2)``."""
    script = FLOWS / "stoppable.py"
    if executor != "processes":
        return script
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "stoppable_processes.py"
    copy.write_text(
        script.read_text()
        + "\nfrom headrace.executors import LocalDaskExecutor\n\n"
        + 'flow.executor = LocalDaskExecutor("processes", num_workers=2)\n'
    )
    return copy


def _start_stoppable(
    api: Client,
    agent_env: dict[str, str],
    markers: Path,
    script: Path = FLOWS / "stoppable.py",
    **agent_kwargs: Any,
) -> tuple[dict[str, Any], LocalAgent, int]:
    """A run of ``script`` under a fresh LocalAgent, once ``blocker`` blocks (the pid is
    that of the process running ``blocker``)."""
    env = {**agent_env, "HEADRACE_TEST_MARKERS": str(markers)}
    run = api.create_flow_run(register_script(api, script))
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env, **agent_kwargs)
    agent.start()
    blocked = markers / "blocked"
    pid = int(wait_for(lambda: blocked.exists() and blocked.read_text(), 60, "blocker to block"))
    return run, agent, pid


@pytest.mark.parametrize("executor", ["local", "threads", "processes"])
def test_cancel_stops_the_run_gracefully_and_on_exit_runs(
    api: Client, agent_env: dict[str, str], tmp_path: Path, executor: str
) -> None:
    """On ``LocalExecutor`` the task runs in the main thread and the engine ends it itself;
    on ``LocalDaskExecutor("threads")`` the main thread waits on the pool and the server
    cancels the unfinished task runs with the flow run; on ``LocalDaskExecutor("processes")``
    the runner does not wait for the worker running ``blocker``: it stops the workers (the
    task there ends Cancelled and the worker reports it on its way out) and none is left.
    Either way the process ends by itself (exit code 1, not killed) long before the 60 s
    grace period."""
    markers = tmp_path / "markers"
    env = {**agent_env, "HEADRACE_TEST_EXECUTOR": executor}
    script = _stoppable_script(executor, tmp_path / "flow")
    run, agent, pid = _start_stoppable(api, env, markers, script, stop_grace_period=60)
    try:
        assert api.cancel_flow_run(run["id"])["state"] == "Cancelling"
        final = wait_for_state(api, run["id"], timeout=30)
        wait_for(lambda: not _alive(pid), 30, f"process {pid} to end")
        wait_for(lambda: run["id"] not in agent.runs, 30, "the agent to forget the run")
    finally:
        agent.stop(stop_runs=True, grace=0)
    assert final["state"] == "Cancelled", final["state_message"]
    handle = agent.recent[run["id"]]
    assert isinstance(handle, ProcessHandle)
    assert handle.process.returncode == 1, handle.last_output()  # exited, was not killed
    if executor == "processes":
        assert pid != handle.process.pid  # blocker ran in a worker process, now gone
        # nothing the run started is left: no worker, no fork server (the run's process
        # led its own process group under the LocalAgent)
        assert _group_members(handle.process.pid) == [], handle.last_output()
    assert f"flow run {run['id']}: Cancelled" in handle.last_output()
    # on_exit ran in the run's own process
    assert (markers / "on_exit").read_text().strip() == str(handle.process.pid)
    assert not (markers / "swallowed").exists()  # except Exception did not catch the stop
    assert not (markers / "after").exists()
    history = _history(api, run["id"])
    assert history[-2:] == ["Cancelling", "Cancelled"], history
    tasks = _tasks(api, run["id"])
    assert tasks["first"]["state"] == "Success"
    assert tasks["blocker"]["state"] == "Cancelled"
    assert tasks["after"]["state"] == "Cancelled"
    blocker_history = [s["name"] for s in api.get_task_run_states(tasks["blocker"]["id"])]
    assert blocker_history[-2:] == ["Running", "Cancelled"], blocker_history
    if executor in ("local", "processes"):  # the engine ended the task it interrupted
        assert "Task 'blocker'" in tasks["blocker"]["state_message"]


def test_a_run_that_ignores_the_stop_is_killed_with_its_process_group_after_the_grace(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    env = {**agent_env, "HEADRACE_TEST_MARKERS": str(markers)}
    run = api.create_flow_run(register_script(api, FLOWS / "stubborn.py"))
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env, stop_grace_period=2)
    agent.start()
    try:
        blocked = markers / "blocked"
        pid = int(wait_for(lambda: blocked.exists() and blocked.read_text(), 60, "the block"))
        child = int((markers / "child").read_text())
        api.cancel_flow_run(run["id"])
        final = wait_for_state(api, run["id"], timeout=30)
        wait_for(lambda: not _alive(pid), 30, f"process {pid} to be killed")
        wait_for(lambda: run["id"] not in agent.runs, 30, "the agent to forget the run")
        # the grandchild in the run's process group is gone too (a zombie until reaped by
        # init counts as gone: it no longer runs)
        wait_for(lambda: not _running(child), 30, f"grandchild {child} to be killed")
    finally:
        agent.stop(stop_runs=True, grace=0)
    assert final["state"] == "Cancelled", final["state_message"]
    assert _tasks(api, run["id"])["stubborn"]["state"] == "Cancelled"


def test_the_agent_kills_a_frozen_run_after_the_grace_period(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    """A process that cannot even run its own grace timer (SIGSTOPped) is killed by the
    agent once ``stop_grace_period`` is over, and the agent records the cancellation."""
    markers = tmp_path / "markers"
    run, agent, pid = _start_stoppable(api, agent_env, markers, stop_grace_period=1)
    try:
        os.kill(pid, signal.SIGSTOP)
        api.cancel_flow_run(run["id"])
        wait_for(lambda: run["id"] not in agent.runs, 30, "the agent to kill the run")
        final = wait_for_state(api, run["id"], timeout=10)
    finally:
        agent.stop(stop_runs=True, grace=0)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    handle = agent.recent[run["id"]]
    assert isinstance(handle, ProcessHandle)
    assert handle.process.returncode == -signal.SIGKILL
    assert final["state"] == "Cancelled"
    assert "stopped by agent" in final["state_message"]
    assert not (markers / "on_exit").exists()  # killed: no chance to run it
    assert _tasks(api, run["id"])["blocker"]["state"] == "Cancelled"  # the server's sweep


def _group_members(pgid: int) -> list[int]:
    """The running (not zombie) processes of process group ``pgid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            members.append(int(stat.parent.name))
    return members


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def _agent_process(url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "headrace", "agent", "local", "start", "--api", url],
        env={**os.environ, **env, "HEADRACE__AGENT__POLL_INTERVAL": "0.1"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def test_stopping_an_agent_process_ends_its_runs_failed_with_on_exit(
    api: Client, backend_server: LiveServer, agent_env: dict[str, str], tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    env = {
        **agent_env,
        "HEADRACE_TEST_MARKERS": str(markers),
        "HEADRACE__AGENT__STOP_GRACE_PERIOD": "60",
    }
    run = api.create_flow_run(register_script(api, FLOWS / "stoppable.py"))
    log = tmp_path / "agent.log"
    agent = _agent_process(backend_server.url, env, log)
    try:
        blocked = markers / "blocked"
        pid = int(wait_for(lambda: blocked.exists() and blocked.read_text(), 60, "the block"))
        agent.send_signal(signal.SIGTERM)
        code = agent.wait(60)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    output = log.read_text()
    assert code == 0, output
    assert "stopping 1 flow run(s) in flight" in output
    assert "agent stopped" in output
    assert not _alive(pid)
    final = api.get_flow_run(run["id"])
    assert final["state"] == "Failed", final
    assert "stopped before it finished" in final["state_message"]
    assert "its agent stopped" in final["state_message"]
    assert (markers / "on_exit").read_text().strip() == str(pid)
    tasks = _tasks(api, run["id"])
    assert {name: t["state"] for name, t in tasks.items()} == {
        "first": "Success",
        "blocker": "Cancelled",
        "after": "Cancelled",
    }
    assert _history(api, run["id"])[-2:] == ["Running", "Failed"]


def test_a_second_signal_kills_the_runs_without_waiting(
    api: Client, backend_server: LiveServer, agent_env: dict[str, str], tmp_path: Path
) -> None:
    """The run ignores the stop; the agent would wait 60 s, but a second SIGTERM makes it
    kill the run's process group at once, record the run Failed, and exit."""
    markers = tmp_path / "markers"
    env = {
        **agent_env,
        "HEADRACE_TEST_MARKERS": str(markers),
        "HEADRACE__AGENT__STOP_GRACE_PERIOD": "60",
    }
    run = api.create_flow_run(register_script(api, FLOWS / "stubborn.py"))
    log = tmp_path / "agent.log"
    agent = _agent_process(backend_server.url, env, log)
    child = 0
    try:
        blocked = markers / "blocked"
        pid = int(wait_for(lambda: blocked.exists() and blocked.read_text(), 60, "the block"))
        child = int((markers / "child").read_text())
        agent.send_signal(signal.SIGTERM)
        wait_for(lambda: "stopping 1 flow run(s)" in log.read_text(), 30, "the graceful stop")
        agent.send_signal(signal.SIGTERM)
        code = agent.wait(30)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        if child and _running(child):
            os.kill(child, signal.SIGKILL)
    assert code != 0  # aborted, as a second Ctrl-C does
    assert not _alive(pid) and not _running(child)
    final = api.get_flow_run(run["id"])
    assert final["state"] == "Failed", final
    assert "stopped while the run was in flight" in final["state_message"]
