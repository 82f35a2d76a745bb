"""The ``headrace`` command line against a live server (click's CliRunner in-process; a
subprocess where the real entry point's error handling matters)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.agent.backend_support import wait_for_state
from tests.support.headrace_server import LiveServer, free_port

from headrace.agent import LocalAgent
from headrace.cli.main import cli
from headrace.client import Client

FLOWS = Path(__file__).parents[1] / "agent" / "flows"
COMMANDS = ["up", "server", "agent", "register", "run", "get", "cancel", "restart", "execute"]


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_lists_every_command() -> None:
    out = invoke("--help")
    for name in COMMANDS:
        assert f"  {name} " in out
    assert "local" in invoke("agent", "--help") and "kubernetes" in invoke("agent", "--help")
    assert "flow-runs" in invoke("get", "--help")


def test_register_run_get_cancel_restart_logs(
    backend_server: LiveServer, api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    url = backend_server.url
    out = invoke("register", "--path", str(FLOWS / "noop.py"), "--project", "cli", "--api", url)
    assert "registered flow 'noop' in project 'cli'" in out
    assert "noop" in invoke("get", "flows", "--api", url)

    # a run nobody picks up, cancelled before it starts, then restarted
    out = invoke("run", "--name", "noop", "--project", "cli", "--api", url)
    run_id = out.split("(")[1].split(")")[0]
    assert api.get_flow_run(run_id)["state"] == "Scheduled"
    assert run_id in invoke("get", "flow-runs", "--api", url)
    assert "Cancelled" in invoke("cancel", run_id, "--api", url)
    assert "Scheduled" in invoke("restart", run_id, "--api", url)

    counts = tmp_path / "counts"
    counts.mkdir()
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(counts)}
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env).start()
    try:
        assert wait_for_state(api, run_id)["state"] == "Success"
        watched = CliRunner().invoke(
            cli, ["run", "--name", "noop", "--watch", "--api", url], catch_exceptions=False
        )
        from headrace.cli.up import register_examples

        register_examples(api)
        mapped = CliRunner().invoke(
            cli,
            ["run", "--name", "mapped-squares", "--param", "n=20", "--watch", "--api", url],
            catch_exceptions=False,
        )
    finally:
        agent.stop(stop_runs=True)
    assert watched.exit_code == 0, watched.output
    assert "Success" in watched.output and "tasks: 1 Success" in watched.output
    assert mapped.exit_code == 0, mapped.output
    assert "map square: 20 Success" in mapped.output and "20/20" in mapped.output
    assert "sum of 20 squares: 2470" in mapped.output  # the run's logs, live
    logs = invoke("get", "logs", "--id", run_id, "--api", url)
    assert "Flow run 'noop': started" in logs


def test_run_path_runs_locally_without_a_server(tmp_path: Path) -> None:
    flow_file = tmp_path / "flow.py"
    flow_file.write_text(
        "from headrace import Flow, Parameter, task\n"
        "@task\ndef double(x):\n    return 2 * x\n"
        "with Flow('local') as flow:\n    double(Parameter('x'))\n"
    )
    out = invoke("run", "--path", str(flow_file), "--param", "x=21")
    assert "Success" in out and "double" in out
    bad = CliRunner().invoke(cli, ["run", "--path", str(flow_file)])
    assert bad.exit_code != 0


@pytest.mark.parametrize("args", [["get", "flows"], ["cancel", "some-run"], ["run", "--name", "x"]])
def test_server_down_is_one_readable_line(args: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "headrace", *args, "--api", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not reachable" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
