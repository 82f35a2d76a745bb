"""A failed run explained in a terminal: each failed task run with its message and the last
frames of its traceback (``run --watch`` ends with it, ``describe flow-run`` shows it)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from headrace.engine.failure import short_traceback
from headrace.wire.names import FAILED_STATE_NAMES

__all__ = ["FAILED_STATES", "failed_task_runs", "print_failures", "task_run_label"]

FAILED_STATES = tuple(sorted(FAILED_STATE_NAMES))


def task_run_label(task_run: dict[str, Any]) -> str:
    """``name`` or ``name[3]`` for a mapped child."""
    name = str(task_run.get("task_name") or task_run.get("task_slug"))
    index = task_run.get("map_index")
    return name if index in (None, -1) else f"{name}[{index}]"


def failed_task_runs(client: Any, flow_run_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    """The run's failed task runs: those that raised first (oldest first), then those that
    did not run because of them (``TriggerFailed``)."""
    runs = client.get_task_runs(flow_run_id, state=list(FAILED_STATES), limit=limit)
    return sorted(
        runs,
        key=lambda t: (t["state"] == "TriggerFailed", str(t["state_timestamp"]), t["map_index"]),
    )


def _error(doc: Any) -> dict[str, Any] | None:
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        return dict(doc["error"])
    return None


def print_failures(
    console: Console,
    run: dict[str, Any],
    task_runs: list[dict[str, Any]],
    frames: int = 3,
    shown: int = 10,
) -> None:
    """Why ``run`` failed: its failed task runs (at most ``shown`` with tracebacks; the
    rest counted), or the run's own error when it failed before any task ran."""
    own = _error(run.get("state_serialized"))
    if not task_runs:
        if own is not None:
            console.print(
                f"[red]the flow run failed[/]: {escape(own['type'])}: {escape(own['message'])}"
            )
            console.print(escape(short_traceback(own.get("traceback") or "", frames)))
        return
    raised = [t for t in task_runs if t["state"] != "TriggerFailed"]
    upstream = [t for t in task_runs if t["state"] == "TriggerFailed"]
    console.print(
        f"[red]{len(raised)} task run(s) failed[/]"
        + (f", {len(upstream)} did not run because of them" if upstream else "")
    )
    for task_run in raised[:shown]:
        error = _error(task_run.get("state_serialized"))
        console.print(
            f"[bold red]✗ {escape(task_run_label(task_run))}[/] ({task_run['state']}) "
            f"[dim]{task_run['id']}[/]"
        )
        console.print(f"  {escape(task_run.get('state_message') or '')}")
        if error is not None and error.get("traceback"):
            text = short_traceback(error["traceback"], frames)
            console.print("\n".join(f"    {escape(line)}" for line in text.splitlines()))
    if len(raised) > shown:
        console.print(f"  ... and {len(raised) - shown} more failed task run(s)")
    for task_run in upstream[:shown]:
        console.print(
            f"[red]- {escape(task_run_label(task_run))}[/] (TriggerFailed): "
            f"{escape(task_run.get('state_message') or '')}"
        )
