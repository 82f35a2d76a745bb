"""A ``Parameter(secret=True)``: its value is masked in the log lines and state messages a
backend run sends (a task logs it and raises an error holding it), and its default never
reaches the server in the flow's document.

Real parts: a live server on SQLite, a BackendFlowRunner in this process.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from headrace import Flow, Parameter, context, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner
from headrace.utilities.secrets import MASK, forget_secrets


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def test_a_secret_parameter_is_masked_in_logs_and_states(api: Client) -> None:
    default = f"default-{uuid.uuid4().hex}"
    given = f"given-{uuid.uuid4().hex}"

    @task
    def connect(password: str) -> None:
        context.logger.warning("connecting with %s", password)
        raise ConnectionError(f"login refused for password {password}")

    with Flow(f"secret-param-{uuid.uuid4().hex[:6]}") as flow:
        connect(Parameter("password", default=default, secret=True))

    flow_id = api.register(flow, project_name="secrets", build=False)
    document = json.dumps(api.get_flow(flow_id)["document"])
    assert default not in document and '"secret": true' in document
    run = api.create_flow_run(flow_id, parameters={"password": given})
    state = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert state.is_failed()
    logs = json.dumps(api.get_logs(run["id"]))
    task_runs = api.get_task_runs(run["id"])
    states = json.dumps(api.get_flow_run_states(run["id"], task_runs=True))
    assert f"connecting with {MASK}" in logs
    (failed,) = [t for t in task_runs if t["task_name"] == "connect"]
    assert f"login refused for password {MASK}" in failed["state_message"]
    for text in (logs, json.dumps(task_runs), states):
        assert given not in text
