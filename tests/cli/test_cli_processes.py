"""``headrace server start`` and ``headrace agent local start`` as real processes: the
server serves on the given port and database, the agent runs a run with its label, and both
stop cleanly on SIGINT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from tests.agent.backend_support import register_script, wait_for, wait_for_state
from tests.support.headrace_server import free_port

from headrace.client import Client

FLOWS = Path(__file__).parents[1] / "agent" / "flows"


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "headrace", *args],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_server_and_agent_processes(tmp_path: Path, agent_env: dict[str, str]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = tmp_path / "server.db"
    server = _start(
        ["server", "start", "--port", str(port), "--database", f"sqlite:///{database}"],
        agent_env,
        tmp_path / "server.log",
    )
    agent = None
    try:

        def healthy() -> bool:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, 60, "the server to answer")
        assert database.exists()
        counts = tmp_path / "counts"
        counts.mkdir()
        env = {
            **agent_env,
            "HEADRACE_TEST_COUNTS": str(counts),
            "HEADRACE__AGENT__POLL_INTERVAL": "0.2",
        }
        agent = _start(
            ["agent", "local", "start", "--label", "cli", "--api", url], env, tmp_path / "agent.log"
        )
        with Client(url) as client:
            run = client.create_flow_run(register_script(client, FLOWS / "noop.py"), labels=["cli"])
            assert wait_for_state(client, run["id"])["state"] == "Success"
            (agent_row,) = client.get_agents()
            assert agent_row["type"] == "local"
            assert agent_row["labels"] == sorted(["cli", socket.gethostname()])
        assert _stop(agent) == 0, (tmp_path / "agent.log").read_text()
        assert "agent stopped" in (tmp_path / "agent.log").read_text()
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        code = _stop(server)
    assert code == 0, (tmp_path / "server.log").read_text()
