"""Readable summaries of finished flow runs."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from headrace.engine.state import Mapped, State

__all__ = ["print_flow_state"]


def print_flow_state(name: str, state: State, console: Console | None = None) -> None:
    """A table of each task's final state (mapped tasks with their children's counts)."""
    console = console or Console()
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
        table.add_row(task.name, type(task_state).__name__, detail)
    console.print(table)
