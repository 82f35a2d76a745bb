"""``headrace get flows | flow-runs | logs --id RUN``: tables from the server."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from headrace.cli.options import api_option, make_client

__all__ = ["get_group", "next_run"]


@click.group("get")
def get_group() -> None:
    """List flows, flow runs or a run's logs."""


def next_run(schedule: dict[str, Any] | None) -> str:
    """The schedule's next event: its time (UTC), and its clock's parameters and labels."""
    if not schedule:
        return ""
    from headrace.schedules import ScheduleError, schedule_from_dict

    try:
        events = schedule_from_dict(schedule).next(1, return_events=True)
    except ScheduleError as exc:
        return f"(unreadable schedule: {exc})"
    if not events:
        return "none"
    event = events[0]
    text = event.start_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if event.parameter_defaults:
        text += " " + ", ".join(f"{k}={v!r}" for k, v in event.parameter_defaults.items())
    if event.labels is not None:
        text += " [" + ",".join(event.labels) + "]"
    return text


@get_group.command("flows")
@click.option("--project", default=None, help="Only this project's flows.")
@api_option
def get_flows(project: str | None, api: str | None) -> None:
    """Registered flows (newest version of each)."""
    with make_client(api) as client:
        project_id = None
        if project:
            found = client.get_projects(name=project)
            if not found:
                raise click.ClickException(f"no project named {project!r}")
            project_id = found[0]["id"]
        projects = {p["id"]: p["name"] for p in client.get_projects()}
        table = Table("name", "version", "project", "labels", "schedule", "next run")
        table.add_column("id", no_wrap=True, min_width=36)
        for flow in client.get_flows(project_id=project_id):
            table.add_row(
                flow["name"],
                str(flow["version"]),
                projects.get(flow["project_id"], flow["project_id"]),
                ",".join(flow["labels"]),
                "yes" if flow.get("schedule") else "",
                escape(next_run(flow.get("schedule"))),
                flow["id"],
            )
        Console().print(table)


@get_group.command("flow-runs")
@click.option("--limit", default=20, show_default=True)
@click.option("--state", "states", multiple=True, help="Only runs in this state (repeatable).")
@api_option
def get_flow_runs(limit: int, states: tuple[str, ...], api: str | None) -> None:
    """Flow runs, newest first."""
    with make_client(api) as client:
        table = Table("name", "state", "scheduled", "started", "ended")
        table.add_column("id", no_wrap=True, min_width=36)
        for run in client.get_flow_runs(limit=limit, state=list(states) or None):
            table.add_row(
                run["name"],
                run["state"] + (" (late)" if run.get("is_late") else ""),
                str(run["scheduled_start"])[:19],
                str(run.get("start_time") or "")[:19],
                str(run.get("end_time") or "")[:19],
                run["id"],
            )
        Console().print(table)


@get_group.command("logs")
@click.option("--id", "flow_run_id", required=True, help="Flow run id.")
@click.option("--limit", default=1000, show_default=True)
@api_option
def get_logs(flow_run_id: str, limit: int, api: str | None) -> None:
    """A flow run's log records, oldest first."""
    import logging

    with make_client(api) as client:
        for log in client.get_logs(flow_run_id, limit=limit):
            where = log.get("task_slug") or "flow"
            if log.get("map_index") not in (None, -1):
                where += f"[{log['map_index']}]"
            level = logging.getLevelName(log["level"])
            click.echo(f"{log['timestamp'][:19]} {level:<7} {where}: {log['message']}")
