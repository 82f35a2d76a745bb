"""Two agents polling one server never start one run twice: many runs, two LocalAgents with
the same labels, every run executed exactly once (counted by the task itself in a file per
run), on SQLite and on PostgreSQL. Real server, real subprocesses."""

from __future__ import annotations

from pathlib import Path

from tests.agent.backend_support import (
    register_script,
    wait_for,
)
from tests.server.conftest import make_settings
from tests.support.headrace_server import LiveServer

from headrace.agent import LocalAgent
from headrace.client import Client

FLOWS = Path(__file__).parent / "flows"
RUNS = 10


def test_two_agents_start_each_run_once(
    any_database_url: str, agent_env: dict[str, str], tmp_path: Path
) -> None:
    counts = tmp_path / "counts"
    counts.mkdir()
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(counts)}
    live = LiveServer(make_settings(any_database_url)).start()
    try:
        with Client(live.url, retries=2, backoff=0.05) as api:
            flow_id = register_script(api, FLOWS / "noop.py")
            runs = [api.create_flow_run(flow_id)["id"] for _ in range(RUNS)]
            agents = [
                LocalAgent(
                    labels=[],
                    client=api,
                    name=f"a{i}",
                    poll_interval=0.05,
                    max_concurrent_runs=3,
                    env=env,
                ).start()
                for i in range(2)
            ]
            try:
                wait_for(
                    lambda: all(
                        r["state"] == "Success"
                        for r in api.get_flow_runs(flow_id=flow_id, limit=100)
                    ),
                    240,
                    "every run to succeed",
                )
            finally:
                for agent in agents:
                    agent.stop(stop_runs=True)
    finally:
        live.stop()
    started = agents[0].started + agents[1].started
    assert sorted(started) == sorted(runs), "each run started by exactly one agent"
    assert {p.stem: p.read_text() for p in counts.iterdir()} == {r: "ran\n" for r in runs}
    assert all(agent.started for agent in agents), "both agents took part"
