"""Expanding a mapped task into one run per child when the flow runner submits it.

A mapped upstream that is already a list of child futures (a mapped task feeding a mapped
task) is paired child by child without waiting, so child *i* downstream starts as soon as
child *i* upstream is done; any other mapped upstream is waited for and its result split.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from headrace.core.edge import Edge
from headrace.engine.state import Mapped, State, Success

if TYPE_CHECKING:
    from headrace.engine.task_runner import TaskRunner

__all__ = ["map_items", "submit_mapped"]


def submit_mapped(
    executor: Any,
    runner: TaskRunner,
    upstream: dict[Edge, Any],
    given: State | None,
    ctx: dict[str, Any],
    constants: Mapping[str, Any] | None,
) -> Any:
    """Submit one run per mapped child; a list of their futures, or one parent future
    when the mapped upstream cannot be mapped over."""
    per_child: dict[Edge, list[Any]] = {}
    for edge, up in upstream.items():
        if not edge.mapped:
            continue
        if isinstance(up, list) and not edge.flattened:
            per_child[edge] = up
            continue
        value = executor.wait(up)
        items = map_items(value, edge.flattened)
        if items is None:
            parent_up = {e: (executor.wait(u) if e is edge else u) for e, u in upstream.items()}
            return executor.submit(runner.run, parent_up, given, ctx, None, constants, True)
        per_child[edge] = items
    count = min(len(items) for items in per_child.values())
    prior = given.map_states if isinstance(given, Mapped) else []
    calls = []
    for i in range(count):
        child_up = {e: (per_child[e][i] if e in per_child else u) for e, u in upstream.items()}
        child_given = prior[i] if i < len(prior) else None
        calls.append((child_up, child_given, ctx, i, constants))
    submit_many = getattr(executor, "submit_many", None)
    if submit_many is not None:
        return list(submit_many(runner.run, calls))
    return [executor.submit(runner.run, *call) for call in calls]


def map_items(value: Any, flattened: bool) -> list[State] | None:
    """One upstream state per child from a resolved upstream, or ``None`` if it cannot be
    mapped over (not successful, or its result is not a sequence)."""
    if isinstance(value, list):
        states: list[State] = value
    elif isinstance(value, Mapped):
        states = value.map_states
    else:
        if not value.is_successful() or value.is_skipped():
            return None
        try:
            states = [Success(result=item) for item in value.result]
        except TypeError:
            return None
    if not flattened:
        return states
    items: list[State] = []
    for child in states:
        if not child.is_successful():
            items.append(child)
            continue
        try:
            items.extend(Success(result=item) for item in child.result)
        except TypeError:
            return None
    return items
