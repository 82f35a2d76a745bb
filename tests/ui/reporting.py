"""Driving a flow run's states through the API's batched ``report`` endpoint, the way a
runner does, for tests that need runs in given states without executing any code (the
aggregate endpoints, the 10,000-child page, the escaping checks). The end-to-end tests run
flows for real with a ``LocalAgent`` instead."""

from __future__ import annotations

from typing import Any

from headrace.client import Client
from headrace.wire.limits import MAX_BATCH

__all__ = ["mapped_run", "move_run", "move_tasks"]


def move_run(client: Client, run_id: str, *names: str, message: str | None = None) -> None:
    """Move the flow run through ``names`` in order (versions read from the server)."""
    for name in names:
        version = client.get_flow_run(run_id)["version"]
        state: dict[str, Any] = {"name": name}
        if message is not None:
            state["message"] = message
        client.report(run_id, {"flow_run_state": {"state": state, "version": version}})


def move_tasks(
    client: Client, run_id: str, changes: list[tuple[str, int, int, str, str | None]]
) -> dict[str, Any]:
    """Apply ``(slug, map_index, version, state, message)`` task-run changes in order, in
    batches of at most the server's ``MAX_BATCH`` changes; returns the last answer."""
    answer: dict[str, Any] = {}
    for start in range(0, len(changes), MAX_BATCH):
        body = {
            "task_runs": [
                {
                    "task_slug": slug,
                    "map_index": index,
                    "version": version,
                    "state": {"name": state, **({"message": msg} if msg else {})},
                }
                for slug, index, version, state, msg in changes[start : start + MAX_BATCH]
            ]
        }
        answer = client.report(run_id, body)
        bad = [t for t in answer["task_runs"] if t["status"] != "applied"]
        assert not bad, f"report not applied: {bad[:3]}"
    return answer


def mapped_run(
    client: Client, run_id: str, slug: str, children: int, failed_every: int = 0
) -> None:
    """Run ``slug`` as a mapped task of ``children`` children: all Running, then Success
    (every ``failed_every``-th child Failed with a message), the parent Mapped."""
    move_run(client, run_id, "Running")
    move_tasks(
        client,
        run_id,
        [(slug, -1, 0, "Running", None)] + [(slug, i, 0, "Running", None) for i in range(children)],
    )
    done = [
        (slug, i, 1, "Failed", f"child {i} failed")
        if failed_every and i % failed_every == 0
        else (slug, i, 1, "Success", None)
        for i in range(children)
    ]
    move_tasks(client, run_id, [*done, (slug, -1, 1, "Mapped", f"Mapped {children} children.")])
