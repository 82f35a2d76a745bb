"""``headrace backfill`` and ``headrace get flows``' next run, against a live server."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from tests.support.headrace_server import LiveServer

from headrace.cli.get import next_run
from headrace.cli.main import cli
from headrace.client import Client

FLOW = """
from datetime import datetime, timedelta, timezone
from headrace import Flow, Parameter, task
from headrace.schedules import IntervalClock, Schedule, filters

@task
def echo(region):
    return region

clock = IntervalClock(
    timedelta(days=1),
    start_date=datetime(2026, 1, 5, 6, tzinfo=timezone.utc),
    parameter_defaults={"region": "eu"},
    labels=["nightly"],
)
with Flow("nightly", schedule=Schedule([clock], filters=[filters.is_weekday])) as flow:
    echo(Parameter("region", default="us"))
"""


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_backfill_from_the_command_line_is_idempotent(
    backend_server: LiveServer, api: Client, tmp_path: Path
) -> None:
    url = backend_server.url
    path = tmp_path / "nightly.py"
    path.write_text(FLOW)
    invoke("register", "--path", str(path), "--project", "cli", "--api", url)
    wide = CliRunner(env={"COLUMNS": "250"}).invoke(cli, ["get", "flows", "--api", url])
    assert "06:00:00 UTC region='eu' [nightly]" in wide.output
    (flow,) = api.get_flows(name="nightly")
    assert next_run(flow["schedule"]).endswith("06:00:00 UTC region='eu' [nightly]")
    args = ["backfill", "--name", "nightly", "--start", "2026-01-09", "--end", "2026-01-13T06:00"]
    out = invoke(*args, "--max-concurrent", "2", "--api", url)
    # Fri 9, Mon 12, Tue 13 (the weekend is filtered out).
    assert "3 run(s) created, 0 already existed, at most 2 at once" in out
    assert "0 run(s) created, 3 already existed" in invoke(*args, "--api", url)
    runs = api.get_flow_runs(order="oldest")
    assert [r["scheduled_start"][:10] for r in runs] == ["2026-01-09", "2026-01-12", "2026-01-13"]
    assert all(r["parameters"] == {"region": "eu"} and r["labels"] == ["nightly"] for r in runs)


def test_backfill_input_errors_name_the_option(backend_server: LiveServer) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "backfill",
            "--name",
            "x",
            "--start",
            "yesterday",
            "--end",
            "2026-01-01",
            "--api",
            backend_server.url,
        ],
    )
    assert result.exit_code != 0
    assert "--start" in result.output and "'yesterday' is not an ISO date" in result.output
