"""Listing a flow run's task runs by a range of map indices: what a chunk of mapped
children asks before it runs them (``headrace.client.backend.recall``)."""

from __future__ import annotations

import pytest

from headrace.client import ApiError, Client


def _children(client: Client, run_id: str, n: int) -> None:
    """``n`` children of transform: every third one failed, the others succeeded."""
    for version, name in ((0, "Running"), (1, None)):
        changes = [
            {
                "task_slug": "transform-1",
                "map_index": i,
                "version": version,
                "state": {"name": name or ("Success" if i % 3 else "Failed")},
            }
            for i in range(n)
        ]
        client.report(run_id, {"task_runs": changes})


def test_task_runs_by_a_range_of_map_indices(client: Client, flow_id: str) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    client.set_flow_run_state(run_id, "Running")
    _children(client, run_id, 12)
    rows = client.get_task_runs(
        run_id, task_slug="transform-1", min_map_index=4, max_map_index=9, state=["Success"]
    )
    assert [r["map_index"] for r in rows] == [4, 5, 7, 8]
    assert [r["map_index"] for r in client.get_task_runs(run_id, min_map_index=10)] == [10, 11]
    parents = client.get_task_runs(run_id, task_slug="transform-1", max_map_index=-1)
    assert [r["map_index"] for r in parents] == [-1]


def test_a_map_index_below_minus_one_is_refused_naming_the_parameter(
    client: Client, flow_id: str
) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    with pytest.raises(ApiError, match="min_map_index"):
        client.get_task_runs(run_id, min_map_index=-2)
