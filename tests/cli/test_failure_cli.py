"""Why a run failed, and what it waits for, from the command line: ``run --watch`` ends a
failed run with each failed task run, its message and the last frames of its traceback;
``get task-runs``, ``get logs`` and ``describe flow-run`` show the same (also as JSON, with
run ids given as unique prefixes, tables not cut when piped); a run no agent can take is
explained within seconds; ``--param`` values are checked against the parameter's type; a
broken flow file is one line naming file and line; ``flow schedule on|off``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.headrace_server import LiveServer

from headrace.agent import LocalAgent
from headrace.cli.main import cli
from headrace.client import Client

FLOWS = Path(__file__).parent / "flows"
MESSAGE = "row 2: amount 'oops' is not an integer"


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def billing(backend_server: LiveServer, api: Client) -> str:
    code, out = run_cli(
        "register",
        "--path",
        str(FLOWS / "billing.py"),
        "--project",
        "cli",
        "--api",
        backend_server.url,
    )
    assert code == 0, out
    return backend_server.url


def test_a_failed_run_says_why_in_watch_get_describe_and_logs(
    billing: str, api: Client, agent_env: dict[str, str]
) -> None:
    url = billing
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=agent_env).start()
    try:
        code, watched = run_cli("run", "--name", "billing-report", "--watch", "--api", url)
    finally:
        agent.stop(stop_runs=True)
    assert code == 1, watched
    run_id = watched.split("(")[1].split(")")[0]
    # --watch ends with each failed task run, its message and its traceback's last frames.
    assert "Failed" in watched
    assert "✗ parse_amounts (Failed)" in watched
    assert "✗ check[1] (Failed)" in watched
    assert f"ValueError: {MESSAGE}" in watched
    assert "in parse_amounts" in watched and "in _amount" in watched
    assert "headrace/engine" not in watched

    prefix = run_id[:8]
    code, table = run_cli("get", "task-runs", "--id", prefix, "--state", "Failed", "--api", url)
    assert code == 0, table
    assert "parse_amounts" in table and "check[1]" in table and "load_rows" not in table
    assert MESSAGE in table
    # Piped, the table is not cut to 80 columns: whole ids and whole messages.
    failed = api.get_task_runs(run_id, state=["Failed"])
    assert all(t["id"] in table for t in failed)
    assert max(len(line) for line in table.splitlines()) > 80

    code, runs = run_cli("get", "flow-runs", "--api", url)
    assert "Failed" in runs and "Some reference tasks failed." in runs  # under the state
    code, raw = run_cli("get", "task-runs", "--id", prefix, "--output", "json", "--api", url)
    rows = json.loads(raw)
    parsed = [r for r in rows if r["task_name"] == "parse_amounts"]
    assert parsed[0]["state_serialized"]["error"]["message"] == MESSAGE
    assert {r["task_name"] for r in rows} >= {"load_rows", "check", "count", "total"}

    code, logs = run_cli("get", "logs", "--id", prefix, "--level", "ERROR", "--api", url)
    assert code == 0, logs
    assert "ERROR" in logs and "Traceback (most recent call last):" in logs and MESSAGE in logs

    code, described = run_cli("describe", "flow-run", prefix, "--api", url)
    assert code == 0, described
    assert run_id in described and "billing-report v1" in described
    assert "✗ parse_amounts (Failed)" in described and f"ValueError: {MESSAGE}" in described
    assert "count" in described and "1 Failed, 2 Success" in described  # mapped children
    code, task_text = run_cli("describe", "task-run", parsed[0]["id"], "--api", url)
    assert code == 0, task_text
    assert "parse_amounts Failed" in task_text and "attempts" in task_text
    assert f"ValueError: {MESSAGE}" in task_text and "in _amount" in task_text
    code, doc = run_cli("describe", "flow-run", run_id, "-o", "json", "--api", url)
    doc_json = json.loads(doc)
    assert doc_json["flow_run"]["state"] == "Failed"
    states = {t["task_name"]: t["state"] for t in doc_json["failed_task_runs"]}
    assert states == {"parse_amounts": "Failed", "check": "Failed", "total": "TriggerFailed"}


def test_a_local_run_says_why_its_tasks_failed() -> None:
    result = CliRunner().invoke(cli, ["run", "--path", str(FLOWS / "billing.py")])
    assert result.exit_code == 1
    assert f"✗ parse_amounts: Task 'parse_amounts' failed: ValueError: {MESSAGE}" in result.output
    assert "✗ check[1]: " in result.output and "in _amount" in result.output


def test_run_ids_are_taken_as_unique_prefixes(billing: str, api: Client) -> None:
    code, out = run_cli("run", "--name", "billing-report", "--api", billing)
    run_id = out.split("(")[1].split(")")[0]
    code, out = run_cli("cancel", run_id[:6], "--api", billing)
    assert code == 0 and f"flow run {run_id}: Cancelled" in out
    result = CliRunner().invoke(cli, ["describe", "flow-run", "zzzz", "--api", billing])
    assert result.exit_code == 2 and "no flow run id starts with 'zzzz'" in result.output


def test_watch_says_at_once_that_no_agent_can_take_the_run(
    billing: str, agent_env: dict[str, str]
) -> None:
    env = {**os.environ, **agent_env, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "headrace",
            "run",
            "--name",
            "billing-report",
            "--label",
            "nosuchlabel",
            "--watch",
            "--api",
            billing,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    wanted = (
        "no agent with labels [nosuchlabel] has been seen; start one with: "
        "headrace agent local start --label nosuchlabel"
    )
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if wanted in line:
                found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # The bound: the warning is on screen within 10 s of the run's creation.
        assert found.wait(10), "".join(lines)
    finally:
        process.terminate()
        process.wait(30)


def test_param_values_are_checked_against_the_parameter_type(billing: str, api: Client) -> None:
    before = len(api.get_flow_runs())
    result = CliRunner().invoke(
        cli, ["run", "--name", "billing-report", "--param", "copies=abc", "--api", billing]
    )
    assert result.exit_code == 2
    assert "parameter 'copies'" in result.output and "int" in result.output
    result = CliRunner().invoke(
        cli, ["run", "--name", "billing-report", "--param", "nope=1", "--api", billing]
    )
    assert result.exit_code == 2 and "has no parameter 'nope'" in result.output
    assert len(api.get_flow_runs()) == before, "no run was created"
    code, out = run_cli("run", "--name", "billing-report", "--param", "copies=3", "--api", billing)
    assert code == 0, out


@pytest.mark.parametrize(
    ("source", "line", "kind"),
    [
        ("from headrace import Flow\n\nwith Flow('x') as flow\n    pass\n", 3, "syntax error"),
        ("import os\nimport no_such_module_for_headrace\n", 2, "import error"),
    ],
)
def test_a_broken_flow_file_is_one_line_naming_file_and_line(
    tmp_path: Path, source: str, line: int, kind: str
) -> None:
    path = tmp_path / "broken.py"
    path.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "headrace", "run", "--path", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{path}:{line}: {kind}" in lines[0] and "--debug" in lines[0]
    debug = subprocess.run(
        [sys.executable, "-m", "headrace", "--debug", "run", "--path", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback (most recent call last):" in debug.stderr


def test_a_missing_extra_names_the_install_command(tmp_path: Path) -> None:
    """The docker package is installed here, so the child process blocks its import (a
    ``None`` in ``sys.modules`` makes ``import docker`` fail as if it were absent)."""
    code = (
        "import sys; sys.modules['docker'] = None\n"
        "from headrace.storage import Docker\n"
        "from headrace.exceptions import MissingExtraError\n"
        "try:\n    Docker(image_name='x').client()\n"
        "except MissingExtraError as exc:\n    assert isinstance(exc, ImportError)\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'headrace[docker]'" in done.stdout and "Docker storage" in done.stdout


def test_flow_schedule_on_and_off(billing: str, api: Client) -> None:
    (flow,) = api.get_flows(name="billing-report")
    code, out = run_cli("flow", "schedule", "off", "--name", "billing-report", "--api", billing)
    assert code == 0 and "schedule of flow 'billing-report': off" in out
    assert api.get_flow_group(flow["flow_group_id"])["schedule_active"] is False
    code, out = run_cli("flow", "schedule", "on", "--name", "billing-report", "--api", billing)
    assert code == 0 and ": on" in out
    assert api.get_flow_group(flow["flow_group_id"])["schedule_active"] is True


def test_what_a_run_waits_for(billing: str, api: Client) -> None:
    from datetime import UTC, datetime, timedelta

    from headrace.cli.waiting import waiting_for

    (flow,) = api.get_flows(name="billing-report")
    now = datetime.now(UTC)
    run = api.create_flow_run(
        flow["id"], labels=["gpu"], scheduled_start=now - timedelta(minutes=5)
    )
    text = waiting_for(api, api.get_flow_run(run["id"]))
    assert text is not None
    assert (
        "no agent with labels [gpu] has been seen; "
        "start one with: headrace agent local start --label gpu"
    ) in text
    assert "the run is late: due at" in text
    api.register_agent("gpu-box", labels=["gpu", "big"])
    text = waiting_for(api, api.get_flow_run(run["id"]))
    assert text is not None and "no agent" not in text and "the run is late" in text
    later = api.create_flow_run(flow["id"], scheduled_start=now + timedelta(hours=1))
    assert str(waiting_for(api, api.get_flow_run(later["id"]))).startswith("scheduled for ")
    code, listed = run_cli("get", "flow-runs", "--api", billing)
    assert code == 0 and later["id"] in listed


def test_an_agent_without_its_extra_is_one_line_naming_it(tmp_path: Path) -> None:
    """kubernetes is installed here, so the child blocks its import (see above)."""
    code = (
        "import sys; sys.modules['kubernetes'] = None\n"
        "sys.argv = ['headrace', 'agent', 'kubernetes', 'start', '--api', 'http://127.0.0.1:9']\n"
        "from headrace.cli.main import main\nmain()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "the kubernetes agent needs the 'kubernetes' package" in lines[0]
    assert "pip install 'headrace[kubernetes]'" in lines[0]
