"""A flow run started by a real agent reads a secret stored (encrypted) on the server, and
the value reaches the server's logs only masked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agent.backend_support import register_script, wait_for_state

from headrace.agent import LocalAgent
from headrace.client import Client

FLOWS = Path(__file__).parent / "flows"
VALUE = "tok-9f8e7d6c5b4a"


def test_a_run_reads_a_server_secret_and_logs_it_masked(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    api.set_secret("API_TOKEN", json.dumps({"token": VALUE}))
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(tmp_path)}
    run = api.create_flow_run(register_script(api, FLOWS / "uses_secret.py"))
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env).start()
    try:
        final = wait_for_state(api, run["id"])
    finally:
        agent.stop()
    assert final["state"] == "Success", final
    # The task got the JSON secret parsed, and the environment variable.
    assert (tmp_path / "got.txt").read_text() == f"{VALUE}|{tmp_path}"
    messages = [log["message"] for log in api.get_logs(run["id"])]
    assert any("connecting with token ********" in m for m in messages), messages
    assert not any(VALUE in m for m in messages)
    # Neither secret task's result was kept on the server.
    for task_run in api.get_task_runs(run["id"]):
        assert VALUE not in str(task_run.get("state_serialized"))
