# ruff: noqa: F401, F811 - pytest fixtures imported by name and used as arguments
"""End to end: the reference document's flow registered, picked up by an agent with matching
labels, run in its custom environment, and its states and logs read back through the API.

Real parts only: a live server on a SQLite file, a LocalAgent starting a real
``python -m headrace execute flow-run`` subprocess (and, in ``tests/agent``, a Docker agent
with a real dockerd and registry).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from tests.agent.backend_support import (
    agent_env,
    api,
    backend_server,
    register_script,
    sqlite_template,
    sqlite_url,
    wait_for_state,
)

from headrace.agent import LocalAgent
from headrace.client import Client

FLOWS = Path(__file__).parent / "agent" / "flows"


def test_seed_example_runs_under_a_local_agent(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    flow_id = register_script(api, FLOWS / "seed_local.py")
    flow = api.get_flow(flow_id)
    # Local storage labels its flows with the host their file is on
    assert flow["labels"] == sorted(["seed-env", socket.gethostname()])
    run = api.create_flow_run(flow_id)
    assert run["labels"] == flow["labels"]

    markers = tmp_path / "markers"
    unlabeled = LocalAgent(labels=[], client=api, poll_interval=0.1, env=agent_env)
    assert unlabeled.step() == 0, "an agent without the run's labels must not take it"

    env = {**agent_env, "HEADRACE_TEST_MARKERS": str(markers)}
    agent = LocalAgent(labels=["seed-env", "other"], client=api, poll_interval=0.1, env=env)
    agent.start()
    try:
        final = wait_for_state(api, run["id"])
    finally:
        agent.stop()
    assert final["state"] == "Success", final["state_message"]
    assert agent.started == [run["id"]]

    pids = {(markers / n).read_text().strip() for n in ("on_start", "on_exit")}
    assert len(pids) == 1 and pids != {str(os.getpid())}, "callbacks ran in the run's process"

    history = [s["name"] for s in api.get_flow_run_states(run["id"])]
    assert history == ["Scheduled", "Submitted", "Running", "Success"]
    tasks = {t["task_name"]: t for t in api.get_task_runs(run["id"])}
    assert {n: t["state"] for n, t in tasks.items()} == {
        "get_value": "Success",
        "output_value": "Success",
    }
    task_history = [
        s["name"]
        for s in api.get_flow_run_states(run["id"], task_runs=True)
        if s["task_run_id"] == tasks["get_value"]["id"]
    ]
    assert task_history[-2:] == ["Running", "Success"]
    # the persisted result's location travels with the state (restarts read it back)
    assert tasks["get_value"]["state_serialized"]["result"]["location"]

    logs = api.get_logs(run["id"])
    messages = [log["message"] for log in logs]
    assert any("Example!" in m for m in messages), messages
    printed = next(log for log in logs if log["message"] == "Example!")
    assert printed["task_run_id"] == tasks["output_value"]["id"]
    assert any("started" in m for m in messages)
