"""Restart keeps what succeeded; cancel stops a run (via its agent when it is running)."""

from __future__ import annotations

import pytest

from headrace.client import Client, InvalidTransitionError


def _fail_with_one_success(client: Client, run_id: str) -> None:
    client.set_flow_run_state(run_id, "Running")
    changes = [
        {"task_slug": "extract-1", "version": 0, "state": {"name": "Running"}},
        {
            "task_slug": "extract-1",
            "version": 1,
            "state": {"name": "Success", "serialized": {"location": "/results/extract"}},
        },
        {"task_slug": "transform-1", "version": 0, "state": {"name": "Running"}},
        {"task_slug": "transform-1", "version": 1, "state": {"name": "Failed"}},
        {"task_slug": "transform-1", "map_index": 0, "version": 0, "state": {"name": "Running"}},
        {
            "task_slug": "transform-1",
            "map_index": 0,
            "version": 1,
            "state": {"name": "Success", "serialized": {"location": "/results/t0"}},
        },
        {"task_slug": "transform-1", "map_index": 1, "version": 0, "state": {"name": "Running"}},
        {"task_slug": "transform-1", "map_index": 1, "version": 1, "state": {"name": "Failed"}},
        {"task_slug": "load-1", "version": 0, "state": {"name": "TriggerFailed"}},
    ]
    client.report(run_id, {"task_runs": changes})
    client.set_flow_run_state(run_id, "Failed", message="transform failed")


def test_restart_keeps_successful_task_runs_and_resets_the_rest(
    client: Client, flow_id: str
) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    _fail_with_one_success(client, run_id)
    restarted = client.restart_flow_run(run_id)
    assert restarted["state"] == "Scheduled" and restarted["end_time"] is None
    assert restarted["task_run_counts"] == {"Success": 2, "Pending": 3}
    tasks = {(t["task_slug"], t["map_index"]): t for t in client.get_task_runs(run_id)}
    kept = tasks[("extract-1", -1)]
    assert kept["state"] == "Success" and kept["state_serialized"] == {
        "location": "/results/extract"
    }
    assert tasks[("transform-1", 0)]["state_serialized"] == {"location": "/results/t0"}
    reset = tasks[("transform-1", 1)]
    assert (reset["state"], reset["version"], reset["state_serialized"]) == ("Pending", 3, None)
    assert tasks[("load-1", -1)]["state"] == "Pending"
    assert [s["name"] for s in client.get_task_run_states(reset["id"])] == [
        "Running",
        "Failed",
        "Pending",
    ]
    agent = client.register_agent("a")
    assert [r["id"] for r in client.claim_flow_runs(agent["id"])] == [run_id]


def test_only_finished_runs_restart(client: Client, flow_id: str) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    with pytest.raises(InvalidTransitionError, match="only a finished run restarts"):
        client.restart_flow_run(run_id)


def test_cancel_before_start_is_immediate(client: Client, flow_id: str) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    assert client.cancel_flow_run(run_id)["state"] == "Cancelled"
    with pytest.raises(InvalidTransitionError, match="already finished"):
        client.cancel_flow_run(run_id)
    agent = client.register_agent("a")
    assert client.claim_flow_runs(agent["id"]) == []


def test_cancel_of_a_running_run_reaches_its_agent_and_runner(client: Client, flow_id: str) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    agent = client.register_agent("a")
    client.claim_flow_runs(agent["id"])
    client.set_flow_run_state(run_id, "Running")
    assert client.cancel_flow_run(run_id)["state"] == "Cancelling"
    assert client.cancel_flow_run(run_id)["state"] == "Cancelling"
    assert client.agent_heartbeat(agent["id"]) == {"cancel_flow_run_ids": [run_id]}
    assert client.heartbeat(run_id)["cancel_requested"] is True
    with pytest.raises(InvalidTransitionError, match="being cancelled"):
        client.set_flow_run_state(run_id, "Running")
    answer = client.report(run_id, {"flow_run_state": {"state": {"name": "Cancelled"}}})
    assert answer["flow_run_status"] == "applied" and answer["cancel_requested"] is False
    assert client.agent_heartbeat(agent["id"]) == {"cancel_flow_run_ids": []}
    names = [s["name"] for s in client.get_flow_run_states(run_id)]
    assert names == ["Scheduled", "Submitted", "Running", "Cancelling", "Cancelled"]
