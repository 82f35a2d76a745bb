"""Readable summaries of finished flow runs."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from headrace.cli.output import make_console
from headrace.engine.failure import short_traceback
from headrace.engine.state import Failed, Mapped, State

__all__ = ["print_flow_state"]


def print_flow_state(name: str, state: State, console: Console | None = None) -> None:
    """A table of each task's final state (mapped tasks with their children's counts)."""
    console = console or make_console()
    table = Table(title=f"Flow {name!r}: {type(state).__name__} — {state.message}")
    table.add_column("task")
    table.add_column("state")
    table.add_column("detail")
    results = state.result if isinstance(state.result, dict) else {}
    for task, task_state in results.items():
        detail = task_state.message or ""
        if isinstance(task_state, Mapped):
            counts = Counter(type(s).__name__ for s in task_state.map_states)
            detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no children"
        table.add_row(escape(task.name), type(task_state).__name__, escape(detail))
    console.print(table)
    for task, task_state in results.items():  # why each failed task failed, as --watch says
        children = task_state.map_states if isinstance(task_state, Mapped) else [task_state]
        for index, child in enumerate(children):
            error = getattr(child, "error", None)
            if not isinstance(child, Failed) or error is None:
                continue
            where = task.name if child is task_state else f"{task.name}[{index}]"
            console.print(f"[bold red]✗ {escape(where)}[/]: {escape(child.message or '')}")
            text = short_traceback(error.traceback)
            console.print("\n".join(f"    {escape(line)}" for line in text.splitlines()))
