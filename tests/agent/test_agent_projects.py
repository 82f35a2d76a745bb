"""``headrace agent local start --project p`` takes only runs of project ``p``: a real agent
subprocess against a live server, with runs in two projects."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.agent.backend_support import register_script, wait_for_state
from tests.support.headrace_server import LiveServer

from headrace.client import Client

FLOWS = Path(__file__).parent / "flows"


def test_an_agent_for_a_project_takes_only_its_runs(
    api: Client, backend_server: LiveServer, agent_env: dict[str, str], tmp_path: Path
) -> None:
    counts = tmp_path / "counts"
    counts.mkdir()
    in_p = register_script(api, FLOWS / "noop.py", project="p")
    in_q = register_script(api, FLOWS / "noop.py", project="q")
    other = api.create_flow_run(in_q)
    first = api.create_flow_run(in_p)
    log = tmp_path / "agent.log"
    env = {
        **os.environ,
        **agent_env,
        "HEADRACE_TEST_COUNTS": str(counts),
        "HEADRACE__AGENT__POLL_INTERVAL": "0.1",
    }
    command = [sys.executable, "-m", "headrace", "agent", "local", "start"]
    agent = subprocess.Popen(
        [*command, "--project", "p", "--api", backend_server.url],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_for_state(api, first["id"])["state"] == "Success"
        # a second run of p, created after q's: the agent has polled past q's run again
        second = api.create_flow_run(in_p)
        assert wait_for_state(api, second["id"])["state"] == "Success"
        agent.send_signal(signal.SIGINT)
        assert agent.wait(30) == 0, log.read_text()
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    assert "for projects ['p']" in log.read_text()
    assert api.get_flow_run(other["id"])["state"] == "Scheduled"
    assert sorted(p.stem for p in counts.iterdir()) == sorted([first["id"], second["id"]])
