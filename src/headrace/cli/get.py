"""``headrace get flows | flow-runs | task-runs --id RUN | logs --id RUN``: tables from the
server (``--output json`` for scripts); run ids may be any unique prefix."""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from headrace.cli.failures import FAILED_STATES, task_run_label
from headrace.cli.ids import resolve_run_id
from headrace.cli.options import api_option, make_client
from headrace.cli.output import emit_json, make_console, output_option

__all__ = ["get_group", "next_run"]


@click.group("get")
def get_group() -> None:
    """List flows, flow runs, a run's task runs or its logs."""


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
@output_option
@api_option
def get_flows(project: str | None, output: str, api: str | None) -> None:
    """Registered flows (newest version of each)."""
    with make_client(api) as client:
        project_id = None
        if project:
            found = client.get_projects(name=project)
            if not found:
                raise click.ClickException(f"no project named {project!r}")
            project_id = found[0]["id"]
        flows = client.get_flows(project_id=project_id)
        if output == "json":
            emit_json(flows)
            return
        projects = {p["id"]: p["name"] for p in client.get_projects()}
        table = Table("name", "version", "project", "labels", "schedule", "next run")
        table.add_column("id", no_wrap=True, min_width=36)
        for flow in flows:
            table.add_row(
                escape(flow["name"]),
                str(flow["version"]),
                escape(projects.get(flow["project_id"], flow["project_id"])),
                escape(",".join(flow["labels"])),
                "yes" if flow.get("schedule") else "",
                escape(next_run(flow.get("schedule"))),
                flow["id"],
            )
        make_console().print(table)


@get_group.command("flow-runs")
@click.option("--limit", default=20, show_default=True)
@click.option("--state", "states", multiple=True, help="Only runs in this state (repeatable).")
@output_option
@api_option
def get_flow_runs(limit: int, states: tuple[str, ...], output: str, api: str | None) -> None:
    """Flow runs, newest first (a failed run's message under its state)."""
    with make_client(api) as client:
        runs = client.get_flow_runs(limit=limit, state=list(states) or None)
        if output == "json":
            emit_json(runs)
            return
        table = Table("name", "state", "scheduled", "started", "ended")
        table.add_column("id", no_wrap=True, min_width=36)
        for run in runs:
            state = run["state"] + (" (late)" if run.get("is_late") else "")
            if run["state"] in FAILED_STATES and run.get("state_message"):
                state += "\n" + escape(str(run["state_message"])[:200])
            table.add_row(
                escape(run["name"]),
                state,
                str(run["scheduled_start"])[:19],
                str(run.get("start_time") or "")[:19],
                str(run.get("end_time") or "")[:19],
                run["id"],
            )
        make_console().print(table)


@get_group.command("task-runs")
@click.option("--id", "flow_run_id", required=True, help="Flow run id (or a unique prefix).")
@click.option("--state", "states", multiple=True, help="Only task runs in this state.")
@click.option("--limit", default=1000, show_default=True)
@output_option
@api_option
def get_task_runs(
    flow_run_id: str, states: tuple[str, ...], limit: int, output: str, api: str | None
) -> None:
    """A flow run's task runs (mapped children included) with their states and messages."""
    with make_client(api) as client:
        run_id = resolve_run_id(client, flow_run_id)
        task_runs = client.get_task_runs(run_id, state=list(states) or None, limit=limit)
        if output == "json":
            emit_json(task_runs)
            return
        table = Table("task", "state", "message", "updated")
        table.add_column("id", no_wrap=True, min_width=36)
        for task_run in task_runs:
            message = task_run.get("state_message") or ""
            error = (task_run.get("state_serialized") or {}).get("error")
            if isinstance(error, dict) and error.get("type"):
                message = message or f"{error['type']}: {error.get('message')}"
            table.add_row(
                escape(task_run_label(task_run)),
                _styled(task_run["state"]),
                escape(message),
                str(task_run["state_timestamp"])[:19],
                task_run["id"],
            )
        make_console().print(table)


def _styled(state: str) -> str:
    if state in FAILED_STATES:
        return f"[red]{state}[/]"
    return f"[green]{state}[/]" if state in ("Success", "Mapped", "Cached") else state


@get_group.command("logs")
@click.option("--id", "flow_run_id", required=True, help="Flow run id (or a unique prefix).")
@click.option("--limit", default=1000, show_default=True)
@click.option("--level", default="DEBUG", show_default=True, help="Lowest level shown.")
@output_option
@api_option
def get_logs(flow_run_id: str, limit: int, level: str, output: str, api: str | None) -> None:
    """A flow run's log records, oldest first."""
    lowest = logging.getLevelName(level.upper())
    if not isinstance(lowest, int):
        raise click.BadParameter(f"{level!r} is not a log level", param_hint="--level")
    with make_client(api) as client:
        run_id = resolve_run_id(client, flow_run_id)
        logs: list[dict[str, Any]] = client.get_logs(run_id, limit=limit, level=lowest)
        if output == "json":
            emit_json(logs)
            return
        for log in logs:
            where = log.get("task_slug") or "flow"
            if log.get("map_index") not in (None, -1):
                where += f"[{log['map_index']}]"
            name = logging.getLevelName(log["level"])
            click.echo(f"{log['timestamp'][:19]} {name:<7} {where}: {log['message']}")
