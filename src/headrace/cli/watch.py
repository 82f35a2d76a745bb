"""Live view of a server flow run: state, task runs counted by state, a progress bar over
every task run (mapped children included), and new log lines as they arrive. Before the run
starts it says what the run waits for (no agent with its labels, late); a failed run ends
with each failed task run, its message and the last frames of its traceback."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from headrace.cli.failures import failed_task_runs, print_failures
from headrace.cli.output import make_console
from headrace.cli.waiting import waiting_for
from headrace.wire.names import FINISHED_STATE_NAMES

__all__ = ["FINISHED", "REPEAT_WAITING", "watch_flow_run"]

REPEAT_WAITING = 30.0  # seconds between two reminders of the same reason to wait
CHECK_WAITING = 2.0  # seconds between two looks at the agents

FINISHED = FINISHED_STATE_NAMES
DONE_TASK = FINISHED_STATE_NAMES


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none yet"


def watch_flow_run(
    client: Any, flow_run_id: str, interval: float = 0.5, console: Console | None = None
) -> str:
    """Follow ``flow_run_id`` until it finishes; returns its final state name.

    One line shows the run's state and its tasks counted by state; each mapped task gets a
    progress bar over its children; new log lines are printed above them."""
    console = console or make_console()
    last_log = 0
    said: tuple[str | None, float] = (None, 0.0)
    checked = 0.0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=False,
    ) as progress:
        overall = progress.add_task("starting", total=None)
        maps: dict[str, Any] = {}
        while True:
            run = client.get_flow_run(flow_run_id)
            summary = client.get_task_run_summary(flow_run_id)
            tasks = Counter(t["state"] for t in summary if t.get("state"))
            done = sum(n for k, n in tasks.items() if k in DONE_TASK)
            progress.update(
                overall,
                total=len(summary) or None,
                completed=done,
                description=f"{run['state']:<10} tasks: {_counts(dict(tasks))}",
            )
            for item in summary:
                total = item.get("children_total") or 0
                if not total:
                    continue
                children = item.get("children") or {}
                finished = sum(n for k, n in children.items() if k in DONE_TASK)
                label = f"  map {item['task_name']}: {_counts(children)}"
                if item["task_slug"] not in maps:
                    maps[item["task_slug"]] = progress.add_task(label, total=total)
                progress.update(
                    maps[item["task_slug"]], total=total, completed=finished, description=label
                )
            for log in client.get_logs(flow_run_id, after_id=last_log, limit=500):
                last_log = max(last_log, int(log["id"]))
                where = log.get("task_slug") or "flow"
                if log.get("map_index") not in (None, -1):
                    where += f"[{log['map_index']}]"
                progress.console.print(
                    f"[dim]{log['timestamp'][11:19]}[/] {escape(where)}: {escape(log['message'])}"
                )
            if run["state"] in FINISHED:
                break
            if not last_log and time.monotonic() - checked >= CHECK_WAITING:
                checked = time.monotonic()
                reason = waiting_for(client, run)
                if reason is not None and (
                    reason != said[0] or checked - said[1] >= REPEAT_WAITING
                ):
                    progress.console.print(f"[yellow]waiting[/]: {escape(reason)}")
                    said = (reason, checked)
                elif reason is None:
                    said = (None, 0.0)
            time.sleep(interval)
    color = "green" if run["state"] == "Success" else "red"
    console.print(
        f"flow run {run['name']}: [{color}]{run['state']}[/] — "
        f"{escape(run.get('state_message') or '')}"
    )
    if run["state"] not in ("Success", "Skipped", "Cancelled"):
        print_failures(console, run, failed_task_runs(client, flow_run_id))
    return str(run["state"])
