"""Live view of a server flow run: state, task runs counted by state, a progress bar over
every task run (mapped children included), and new log lines as they arrive."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

__all__ = ["FINISHED", "watch_flow_run"]

FINISHED = {"Success", "Failed", "Cancelled", "TimedOut", "TriggerFailed", "Skipped"}
DONE_TASK = {
    "Success",
    "Failed",
    "Cancelled",
    "TimedOut",
    "TriggerFailed",
    "Skipped",
    "Cached",
    "Mapped",
}


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no task runs yet"


def watch_flow_run(
    client: Any, flow_run_id: str, interval: float = 0.5, console: Console | None = None
) -> str:
    """Follow ``flow_run_id`` until it finishes; returns its final state name."""
    console = console or Console()
    last_log = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("starting", total=None)
        while True:
            run = client.get_flow_run(flow_run_id)
            counts = run.get("task_run_counts") or {}
            total = sum(counts.values())
            done = sum(n for k, n in counts.items() if k in DONE_TASK)
            progress.update(
                bar,
                total=total or None,
                completed=done,
                description=f"{run['state']:<10} task runs: {_counts(counts)}",
            )
            for log in client.get_logs(flow_run_id, after_id=last_log, limit=500):
                last_log = max(last_log, int(log["id"]))
                where = log.get("task_slug") or "flow"
                if log.get("map_index") not in (None, -1):
                    where += f"[{log['map_index']}]"
                progress.console.print(
                    f"[dim]{log['timestamp'][11:19]}[/] {where}: {log['message']}"
                )
            if run["state"] in FINISHED:
                break
            time.sleep(interval)
    color = "green" if run["state"] == "Success" else "red"
    console.print(
        f"flow run {run['name']}: [{color}]{run['state']}[/] — {run.get('state_message') or ''}"
    )
    return str(run["state"])
