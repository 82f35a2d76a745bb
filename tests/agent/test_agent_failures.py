"""A flow run whose process is killed is detected (by its agent, or by the server's zombie
reaper when no agent is watching) and marked Failed; restarting it re-runs only the task
that did not succeed (executions counted in files). Cancelling a run stops its process.

Real parts: a live server on SQLite, LocalAgents starting real subprocesses, SIGKILL.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from tests.agent.backend_support import (
    register_script,
    wait_for,
    wait_for_state,
)
from tests.support.headrace_server import LiveServer

from headrace.agent import LocalAgent
from headrace.client import Client
from headrace.server.services import reap_zombies

FLOWS = Path(__file__).parent / "flows"


def _start_restartable(
    api: Client, agent_env: dict[str, str], counts: Path
) -> tuple[dict[str, Any], LocalAgent]:
    """A run of ``flows/restartable.py`` taken by a fresh LocalAgent that counts in ``counts``."""
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(counts)}
    run = api.create_flow_run(register_script(api, FLOWS / "restartable.py"))
    return run, _start(api, env)


def _blocked_pid(counts: Path) -> int:
    """The pid of the run's process, once its second task is blocked waiting for release."""
    return int(
        wait_for(
            lambda: (counts / "blocked").exists() and (counts / "blocked").read_text(),
            60,
            "second to block",
        )
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _start(api: Client, env: dict[str, str]) -> LocalAgent:
    return LocalAgent(labels=[], client=api, poll_interval=0.1, env=env).start()


def test_killed_run_is_failed_by_its_agent_and_restart_reruns_only_the_failed_task(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    counts = tmp_path / "counts"
    run, agent = _start_restartable(api, agent_env, counts)
    try:
        pid = _blocked_pid(counts)
        wait_for(
            lambda: (
                {t["task_name"]: t["state"] for t in api.get_task_runs(run["id"])}.get("first")
                == "Success"
            ),
            30,
            "first's Success to reach the server",
        )
        os.kill(pid, signal.SIGKILL)
        failed = wait_for_state(api, run["id"], {"Failed"}, timeout=30)
        assert "killed by SIGKILL (exit code -9)" in failed["state_message"]
        assert failed["state_message"].startswith("attempt 1 died: ")

        (counts / "release").touch()
        restarted = api.restart_flow_run(run["id"])
        assert restarted["state"] == "Scheduled"
        final = wait_for_state(api, run["id"], timeout=60)
    finally:
        agent.stop(stop_runs=True)
    assert final["state"] == "Success", final["state_message"]
    assert _lines(counts / "first") == [run["id"]], "the successful task must not run again"
    assert _lines(counts / "second") == [run["id"], run["id"]]
    assert final["run_count"] == 2


def test_killed_run_without_agent_is_reaped_after_the_heartbeat_timeout(
    backend_server: LiveServer, api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    counts = tmp_path / "counts"
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(counts)}
    run = api.create_flow_run(register_script(api, FLOWS / "restartable.py"))
    agent = _start(api, env)
    pid = int(
        wait_for(
            lambda: (counts / "blocked").exists() and (counts / "blocked").read_text(),
            60,
            "second to block",
        )
    )
    agent.stop()  # nobody watches the process any more: only heartbeats tell it is alive
    settings = backend_server.settings
    try:
        # alive and heartbeating (every 0.5s) for longer than the 3s timeout: not a zombie
        assert _alive(pid)
        time.sleep(settings.heartbeat_timeout + 1)
        assert reap_zombies(backend_server.db, settings) == 0
        assert api.get_flow_run(run["id"])["state"] == "Running"
        os.kill(pid, signal.SIGKILL)
        reaped = wait_for(
            lambda: reap_zombies(backend_server.db, settings),
            settings.heartbeat_timeout + 10,
            "the reaper to find the zombie",
        )
    finally:
        agent.stop(stop_runs=True)
    assert reaped == 1
    failed = api.get_flow_run(run["id"])
    assert failed["state"] == "Failed"
    assert "no heartbeat" in failed["state_message"]
    tasks = {t["task_name"]: t["state"] for t in api.get_task_runs(run["id"])}
    assert tasks == {"first": "Success", "second": "Failed"}


def test_cancelling_a_run_stops_its_process(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    counts = tmp_path / "counts"
    run, agent = _start_restartable(api, agent_env, counts)
    try:
        pid = _blocked_pid(counts)
        assert api.cancel_flow_run(run["id"])["state"] == "Cancelling"
        final = wait_for_state(api, run["id"], timeout=30)
        wait_for(lambda: not _alive(pid), 15, f"process {pid} to end")
    finally:
        agent.stop(stop_runs=True)
    assert final["state"] == "Cancelled"
    assert run["id"] not in agent.runs
