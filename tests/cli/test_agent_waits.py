"""``headrace agent local start`` before the server is up: it says what it waits for (one
line every few seconds, no traceback), registers as soon as the server comes up, and a
SIGINT while it waits stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.agent.backend_support import wait_for
from tests.server.conftest import make_settings
from tests.support.headrace_server import LiveServer, free_port

from headrace.client import Client


def _agent(url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "headrace", "agent", "local", "start", "--api", url],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def test_an_agent_waits_for_the_server_then_registers(
    tmp_path: Path, sqlite_url: str, agent_env: dict[str, str]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "agent.log"
    process = _agent(url, agent_env, log)
    live: LiveServer | None = None
    try:
        wait_for(lambda: "waiting for the headrace server" in log.read_text(), 60, "waiting line")
        assert process.poll() is None, "the agent did not exit"
        live = LiveServer(make_settings(sqlite_url), port=port).start()
        with Client(url) as client:
            wait_for(client.get_agents, 60, "the agent to register")
        wait_for(lambda: "polling" in log.read_text(), 30, "the agent's polling line")
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
        if live is not None:
            live.stop()
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text
    assert f"waiting for the headrace server at {url}" in text


def test_an_agent_stopped_while_waiting_exits_cleanly(
    tmp_path: Path, agent_env: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "agent.log"
    process = _agent(url, agent_env, log)
    try:
        wait_for(lambda: "waiting for the headrace server" in log.read_text(), 60, "waiting line")
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    assert code == 0, log.read_text()
    assert "agent stopped" in log.read_text() and "Traceback" not in log.read_text()
