"""``headrace describe flow-run RUN``: everything the run page shows, as text (or JSON):
the run's fields, why it failed (failed task runs, their messages and tracebacks), what it
waits for, its tasks with their states and mapped children, and the end of its logs."""

from __future__ import annotations

import logging
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from headrace.cli.failures import failed_task_runs, print_failures, task_run_label
from headrace.cli.ids import resolve_run_id
from headrace.cli.options import api_option, make_client
from headrace.cli.output import emit_json, make_console, output_option
from headrace.cli.waiting import waiting_for
from headrace.wire.names import FAILED_STATE_NAMES

__all__ = ["describe_group"]

LOG_TAIL = 20
FIELDS = (
    "id",
    "name",
    "state",
    "state_message",
    "labels",
    "parameters",
    "scheduled_start",
    "start_time",
    "end_time",
    "is_late",
    "run_count",
    "agent_id",
)


@click.group("describe")
def describe_group() -> None:
    """Show one object in full."""


@describe_group.command("flow-run")
@click.argument("flow_run_id")
@click.option(
    "--logs",
    "log_lines",
    default=LOG_TAIL,
    show_default=True,
    help="How many of the last log lines to show.",
)
@output_option
@api_option
def describe_flow_run(flow_run_id: str, log_lines: int, output: str, api: str | None) -> None:
    """A flow run in full: state, why it failed, tasks, the end of its logs."""
    with make_client(api) as client:
        run_id = resolve_run_id(client, flow_run_id)
        run = client.get_flow_run(run_id)
        flow = client.get_flow(run["flow_id"])
        summary = client.get_task_run_summary(run_id)
        failures = failed_task_runs(client, run_id)
        waiting = waiting_for(client, run)
        logs = client.get_logs(run_id, limit=10_000)[-log_lines:] if log_lines > 0 else []
    doc: dict[str, Any] = {
        "flow_run": run,
        "flow": {k: flow.get(k) for k in ("id", "name", "version", "project_id", "labels")},
        "waiting_for": waiting,
        "failed_task_runs": failures,
        "tasks": summary,
        "logs": logs,
    }
    if output == "json":
        emit_json(doc)
        return
    console = make_console()
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    fields.add_row("flow", escape(f"{flow['name']} v{flow['version']}"))
    for key in FIELDS:
        value = run.get(key)
        if value in (None, [], {}, ""):
            continue
        fields.add_row(key, escape(str(value)))
    console.print(fields)
    if waiting:
        console.print(f"[yellow]waiting[/]: {escape(waiting)}")
    if failures or run["state"] in FAILED_STATE_NAMES:
        console.print()
        print_failures(console, run, failures)
    console.print()
    tasks = Table("task", "state", "mapped children", title="tasks")
    for item in summary:
        children = item.get("children") or {}
        counts = ", ".join(f"{n} {k}" for k, n in sorted(children.items()))
        tasks.add_row(escape(item["task_name"]), str(item.get("state") or ""), counts)
    console.print(tasks)
    if logs:
        console.print(f"\n[bold]last {len(logs)} log line(s)[/]")
        for log in logs:
            where = task_run_label(
                {"task_name": log.get("task_slug") or "flow", "map_index": log.get("map_index")}
            )
            level = logging.getLevelName(log["level"])
            console.print(escape(f"{log['timestamp'][:19]} {level:<7} {where}: {log['message']}"))


@describe_group.command("task-run")
@click.argument("task_run_id")
@output_option
@api_option
def describe_task_run(task_run_id: str, output: str, api: str | None) -> None:
    """A task run in full: state, error and traceback, each attempt, history, logs."""
    with make_client(api) as client:
        task_run = client.get_task_run(task_run_id)
        attempts = client.get_task_run_attempts(task_run_id)
        history = client.get_task_run_states(task_run_id)
        logs = client.get_logs(task_run["flow_run_id"], task_run_id=task_run_id, limit=1000)
    if output == "json":
        emit_json({"task_run": task_run, "attempts": attempts, "history": history, "logs": logs})
        return
    console = make_console()
    console.print(
        f"[bold]{escape(task_run_label(task_run))}[/] {task_run['state']} "
        f"(flow run {task_run['flow_run_id']})"
    )
    if task_run.get("state_message"):
        console.print(escape(task_run["state_message"]))
    error = (task_run.get("state_serialized") or {}).get("error")
    if isinstance(error, dict) and error.get("traceback"):
        console.print(escape(error["traceback"].rstrip()))
    table = Table("attempt", "started", "ended", "state", "message", title="attempts")
    for attempt in attempts:
        err = attempt.get("error") or {}
        message = f"{err['type']}: {err['message']}" if err else attempt.get("message") or ""
        table.add_row(
            str(attempt["attempt"]),
            str(attempt.get("start") or "")[:23],
            str(attempt.get("end") or "running")[:23],
            attempt["state"],
            escape(message),
        )
    console.print(table)
    states = Table("state", "at", "message", title="history")
    for record in history:
        states.add_row(
            record["name"], str(record["timestamp"])[:23], escape(record.get("message") or "")
        )
    console.print(states)
    for log in logs:
        level = logging.getLevelName(log["level"])
        console.print(escape(f"{log['timestamp'][:19]} {level:<7} {log['message']}"))
