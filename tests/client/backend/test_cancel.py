"""The run's own side of a graceful stop, without an agent: a ``headrace execute flow-run``
process whose run is cancelled on the server notices it through its heartbeat, stops the
flow (task and flow run ``Cancelled``, ``on_exit`` run) and exits by itself; one that cannot
stop is ended after ``agent.stop_grace_period``, with its process group; a stop asked before
the flow starts runs nothing.

Real parts: a live server on SQLite, ``python -m headrace execute flow-run`` subprocesses,
real signals.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tests.agent.backend_support import register_script, wait_for, wait_for_state
from tests.support.headrace_server import LiveServer

from headrace.client import Client
from headrace.client.backend.cancel import StopRequests
from headrace.engine.signals import RunCancelled

FLOWS = Path(__file__).parents[2] / "agent" / "flows"


def _execute(
    api: Client, server: LiveServer, script: str, env: dict[str, str], tmp_path: Path
) -> tuple[str, subprocess.Popen[bytes], Path]:
    """A claimed run of ``script`` executed by a bare ``headrace execute flow-run`` process
    (its own process group, as under an agent; no agent watches it)."""
    run = api.create_flow_run(register_script(api, FLOWS / script))
    # on this host, as a LocalAgent would be (Local storage labels its flows with the host)
    agent = api.register_agent("by-hand", labels=[socket.gethostname()])
    assert [r["id"] for r in api.claim_flow_runs(agent["id"])] == [run["id"]]
    log = tmp_path / "run.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "headrace", "execute", "flow-run", "--id", run["id"]],
        env={**os.environ, **env, "HEADRACE__API__URL": server.url},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return run["id"], process, log


def _blocked(markers: Path) -> int:
    blocked = markers / "blocked"
    return int(wait_for(lambda: blocked.exists() and blocked.read_text(), 60, "the block"))


def _running(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_the_runner_stops_itself_when_the_server_cancels_its_run(
    api: Client, backend_server: LiveServer, agent_env: dict[str, str], tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    env = {**agent_env, "HEADRACE_TEST_MARKERS": str(markers)}
    run_id, process, log = _execute(api, backend_server, "stoppable.py", env, tmp_path)
    try:
        pid = _blocked(markers)
        api.cancel_flow_run(run_id)
        code = process.wait(60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = log.read_text()
    assert code == 1, output  # ended by itself: not Success, not killed
    assert f"flow run {run_id}: Cancelled" in output
    assert (markers / "on_exit").read_text().strip() == str(pid)
    final = api.get_flow_run(run_id)
    assert final["state"] == "Cancelled", final["state_message"]
    assert "cancel requested" in final["state_message"]
    tasks = {t["task_name"]: t["state"] for t in api.get_task_runs(run_id)}
    assert tasks == {"first": "Success", "blocker": "Cancelled", "after": "Cancelled"}
    assert "Traceback" not in output


def test_a_runner_that_cannot_stop_ends_after_the_grace_period_with_its_group(
    api: Client, backend_server: LiveServer, agent_env: dict[str, str], tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    env = {
        **agent_env,
        "HEADRACE_TEST_MARKERS": str(markers),
        "HEADRACE__AGENT__STOP_GRACE_PERIOD": "1",
    }
    run_id, process, log = _execute(api, backend_server, "stubborn.py", env, tmp_path)
    child = 0
    try:
        _blocked(markers)
        child = int((markers / "child").read_text())
        api.cancel_flow_run(run_id)
        code = process.wait(60)
        wait_for(lambda: not _running(child), 30, f"grandchild {child} to be killed")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if child and _running(child):
            os.kill(child, signal.SIGKILL)
    assert code == -signal.SIGKILL, log.read_text()  # its own group kill took it too
    final = wait_for_state(api, run_id, timeout=10)
    assert final["state"] == "Cancelled"
    assert "did not stop within 1s" in final["state_message"]


def test_a_stop_asked_before_the_flow_starts_runs_nothing() -> None:
    """No process here: the stop request and the armed region, in this thread."""
    stops = StopRequests(grace=-1)
    assert stops.request("first reason") and not stops.request("second")
    assert stops.reason == "first reason"
    with pytest.raises(RunCancelled, match="first reason"), stops.armed():
        raise AssertionError("the flow must not start")


def test_sigterm_interrupts_only_an_armed_main_thread() -> None:
    """The handler raises in the main thread while armed, once; outside it only records."""
    original = signal.getsignal(signal.SIGTERM)
    stops = StopRequests(grace=-1).install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # not armed: recorded, nothing raised
        assert stops.requested.is_set() and "SIGTERM" in stops.reason
        stops = StopRequests(grace=-1).install()
        interrupted = threading.Event()
        with pytest.raises(RunCancelled), stops.armed():
            threading.Timer(0.2, stops.ask, args=("asked by a thread",)).start()
            try:
                threading.Event().wait(60)  # a blocking wait in the main thread
            finally:
                interrupted.set()
        assert interrupted.is_set() and stops.reason == "asked by a thread"
    finally:
        stops.uninstall()
        signal.signal(signal.SIGTERM, original)
