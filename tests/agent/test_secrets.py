"""A secret a flow run leaks -- in an exception's text, a log line, a traceback, its printed
output, the last lines of a process that dies -- appears nowhere: not in the API's states
and logs, not in the database's rows, not in the agent's output nor in the Failed message
it writes, not in the UI's run page.

Real parts: a live server on SQLite, a LocalAgent starting a real ``headrace execute``
subprocess that raises, logs, prints and kills itself.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from pathlib import Path

from tests.agent.backend_support import register_script, wait_for, wait_for_state
from tests.support.headrace_server import LiveServer

from headrace.agent import LocalAgent
from headrace.client import Client
from headrace.utilities.secrets import MASK

FLOWS = Path(__file__).parent / "flows"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _database_text(url: str) -> str:
    """Every row of every table of the SQLite database at ``url``, as text."""
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())


def test_a_leaked_secret_appears_nowhere(
    backend_server: LiveServer, api: Client, agent_env: dict[str, str]
) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    token = f"tok-{uuid.uuid4().hex}"
    env = {**agent_env, "LEAKY_SECRET": secret, "LEAKY_SERVICE_TOKEN": token}
    run = api.create_flow_run(register_script(api, FLOWS / "leaky.py"))
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env)
    seen = _Collect()
    agent.logger.addHandler(seen)
    agent.start()
    try:
        failed = wait_for_state(api, run["id"], {"Failed"}, timeout=90)
        wait_for(lambda: run["id"] not in agent.runs, 30, "the agent to settle the run")
    finally:
        agent.stop(stop_runs=True)
        agent.logger.removeHandler(seen)

    # the run died: the agent's message carries its last output, masked
    assert "exited with code 3" in failed["state_message"]
    assert f"stderr: password {MASK} token {MASK}" in failed["state_message"]
    # the task's error reached the server, masked
    task_states = {t["task_name"]: t for t in api.get_task_runs(run["id"])}
    assert task_states["raiser"]["state"] == "Failed"
    assert f"cannot log in with password {MASK}" in task_states["raiser"]["state_message"]
    logs = api.get_logs(run["id"])
    assert any(f"the password is {MASK} and the token {MASK}" in r["message"] for r in logs)

    states = api.get_flow_run_states(run["id"], task_runs=True)
    ui_page = api.request("GET", f"/ui/flow_runs/{run['id']}")
    agent_output = "\n".join(seen.lines)
    assert f"stdout: password {MASK} token {MASK}" in agent_output
    places = {
        "flow run": json.dumps(api.get_flow_run(run["id"])),
        "states": json.dumps(states),
        "task runs": json.dumps(api.get_task_runs(run["id"])),
        "logs": json.dumps(logs),
        "UI run page": json.dumps(ui_page),
        "database rows": _database_text(backend_server.settings.database_url),
        "agent output": agent_output,
    }
    for where, text in places.items():
        assert secret not in text, f"the storage secret leaked into the {where}"
        assert token not in text, f"the token leaked into the {where}"
