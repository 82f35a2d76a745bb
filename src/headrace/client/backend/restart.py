"""What the server already holds of a flow run's task runs, read back by its runner.

A restarted run starts from the states of its earlier attempt (:func:`earlier_task_states`):
successful task runs come back with their persisted results (read lazily, on first use),
mapped children that succeeded come back inside a ``Mapped`` parent, and everything else
runs again. That ``Mapped`` lists the children by map index up to the last one the server
holds, which may be fewer than the map has (the run was cancelled or killed in the middle):
the engine expands a mapped task given a ``Mapped`` state again over its upstream, so every
child without a successful state runs and the reduce sees them all.

At the end of a run whose tasks reported from worker processes, the runner asks
which states the server has (:func:`server_task_states`) so it settles only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from headrace.client.backend.states import state_from_json
from headrace.core.flow import Flow
from headrace.core.task import Task
from headrace.engine.state import NOT_LOADED, Mapped, Pending, State, Success
from headrace.utilities.logging import get_logger

__all__ = ["earlier_task_states", "server_task_states", "task_run_rows"]

logger = get_logger("backend.restart")
PAGE = 10_000


def task_run_rows(client: Any, flow_run_id: str) -> Iterator[dict[str, Any]]:
    """Every task run of the flow run, a page of :data:`PAGE` at a time."""
    offset = 0
    while True:
        page = client.get_task_runs(flow_run_id, limit=PAGE, offset=offset)
        yield from page
        if len(page) < PAGE:
            return
        offset += len(page)


def _configured_result(task: Task, flow: Flow, doc: dict[str, Any] | None) -> Any:
    """The task's (or flow's) own ``Result`` pointed at ``doc``'s location, when it is the
    kind of result that wrote it: it has what the server never receives (credentials,
    endpoints, the secret task of a ``SecretResult``)."""
    chosen = task.result or flow.result
    if chosen is None or not doc or not isinstance(doc.get("location"), str):
        return None
    try:
        mine = chosen.to_dict()
    except Exception:
        return None
    if mine.get("type") != doc.get("type"):
        return None
    if "dir" in doc and str(getattr(chosen, "dir", doc["dir"])) != str(doc["dir"]):
        return None
    new = chosen.copy()
    new.location = doc["location"]
    return new


def _state(task: Task, flow: Flow, row: dict[str, Any]) -> State:
    state = state_from_json(row["state"], row["state_message"], row["state_serialized"])
    if state.is_successful() or isinstance(state, Pending):
        doc = (row["state_serialized"] or {}).get("result")
        configured = _configured_result(task, flow, doc)
        if configured is not None and row["state"] not in ("Mapped", "Pending"):
            return Success(row["state_message"], NOT_LOADED, persisted=configured)
    return state


def earlier_task_states(client: Any, flow_run_id: str, flow: Flow) -> dict[Task, State]:
    """States of an earlier attempt: successful task runs (with their results) and the
    mapped children that succeeded (in a ``Mapped`` state the engine expands again, see the
    module); everything else starts over."""
    by_slug = {slug: task for task, slug in flow.slugs.items()}
    parents: dict[Task, dict[str, Any]] = {}
    children: dict[Task, dict[int, State]] = {}
    for row in task_run_rows(client, flow_run_id):
        task = by_slug.get(row["task_slug"])
        if task is None:
            continue
        if row["map_index"] < 0:
            parents[task] = row
        elif row["state"] != "Pending":
            children.setdefault(task, {})[row["map_index"]] = _state(task, flow, row)
    states: dict[Task, State] = {}
    for task, row in parents.items():
        if row["state"] == "Mapped" or task in children:
            kids = children.get(task, {})
            if any(s.is_successful() for s in kids.values()):
                size = max(kids) + 1
                states[task] = Mapped(
                    "restarted", map_states=[kids.get(i, Pending()) for i in range(size)]
                )
            continue
        state = _state(task, flow, row)
        if state.is_successful():
            states[task] = state
    return states


def server_task_states(client: Any, flow_run_id: str) -> dict[tuple[str, int], str]:
    """The state of each task run on the server now, by (slug, map index); empty if it
    cannot be asked (then every state is reported again, and the server refuses repeats)."""
    try:
        return {
            (r["task_slug"], r["map_index"]): r["state"] for r in task_run_rows(client, flow_run_id)
        }
    except Exception as exc:
        logger.warning("flow run %s: could not read its task runs: %s", flow_run_id, exc)
        return {}
