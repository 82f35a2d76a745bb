"""Restart from failure with each kind of result, through a live server and a real agent:
the task that succeeded is not run again, its value is read back from where its result
kept it (a file:// URL, S3 on moto's server, the server's database), and the secret task's
result holds only the secret's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.agent.backend_support import register_script, wait_for_state

from headrace.agent import LocalAgent
from headrace.client import Client

FLOWS = Path(__file__).parent / "flows"
TOKEN = "restart-tok-5e6f7a8b"


@pytest.mark.parametrize("kind", ["file", "s3", "prefect"])
def test_restart_reads_each_result_back_instead_of_rerunning(
    kind: str,
    api: Client,
    agent_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(tmp_path), "HEADRACE_TEST_RESULT": kind}
    if kind == "s3":
        import s3fs

        endpoint = request.getfixturevalue("s3_server")
        env["HEADRACE_TEST_S3"] = endpoint
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
        if not fs.exists("restart-results"):
            fs.mkdir("restart-results")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    api.set_secret("RESTART_TOKEN", TOKEN)
    run = api.create_flow_run(register_script(api, FLOWS / "results_restart.py"))
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env).start()
    try:
        assert wait_for_state(api, run["id"])["state"] == "Failed"
        (tmp_path / "release").write_text("go")
        api.restart_flow_run(run["id"])
        final = wait_for_state(api, run["id"], {"Success", "Failed"}, timeout=90)
        # a restart passes through Scheduled; wait for the second attempt's end
        while final["run_count"] < 2 or final["state"] not in ("Success", "Failed"):
            final = wait_for_state(api, run["id"], {"Success", "Failed"}, timeout=90)
    finally:
        agent.stop()
    assert final["state"] == "Success", final
    counts = {n: len((tmp_path / n).read_text().splitlines()) for n in ("first", "second", "third")}
    assert counts == {"first": 1, "second": 2, "third": 1}
    assert (tmp_path / "out.txt").read_text() == f"{TOKEN}:42"
    rows = {r["task_slug"].split("-")[0]: r for r in api.get_task_runs(run["id"])}
    stored = rows["first"]["state_serialized"]["result"]
    if kind == "prefect":
        assert json.loads(stored["location"]) == {"n": 21}  # the value, in the database
    elif kind == "s3":
        assert stored["dir"] == "s3://restart-results"
        assert "endpoint" not in json.dumps(stored)  # options never reach the server
    else:
        assert (tmp_path / "results" / stored["location"]).exists()
    secret_rows = [r for r in api.get_task_runs(run["id"]) if r["task_name"] == "RESTART_TOKEN"]
    assert secret_rows[0]["state_serialized"]["result"]["location"] == "RESTART_TOKEN"
    assert TOKEN not in json.dumps([r["state_serialized"] for r in api.get_task_runs(run["id"])])
