"""Server-side state checks: the engine's transition table, the finished-run rule and the
optimistic version that keeps two writers from losing an update."""

from __future__ import annotations

import threading

import pytest
from tests.server.conftest import finish_task_runs

from headrace.client import (
    Client,
    InvalidTransitionError,
    ValidationError,
    VersionConflictError,
)


def test_a_flow_run_walks_its_states_and_records_history(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    assert client.set_flow_run_state(run["id"], "Running", version=1) == {
        "state": "Running",
        "version": 2,
    }
    finish_task_runs(client, run["id"])
    client.set_flow_run_state(run["id"], "Success", version=2, message="all good")
    got = client.get_flow_run(run["id"])
    assert (got["state"], got["state_message"], got["version"]) == ("Success", "all good", 3)
    assert got["start_time"] and got["end_time"] and got["run_count"] == 1
    names = [(s["name"], s["version"]) for s in client.get_flow_run_states(run["id"])]
    assert names == [("Scheduled", 1), ("Running", 2), ("Success", 3)]


def test_a_finished_run_cannot_go_back_to_running(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    client.set_flow_run_state(run["id"], "Running")
    client.set_flow_run_state(run["id"], "Failed")
    for new in ("Running", "Scheduled", "Success"):
        with pytest.raises(InvalidTransitionError, match="except by a restart") as info:
            client.set_flow_run_state(run["id"], new)
        assert info.value.status == 409 and info.value.code == "invalid_transition"
    assert client.get_flow_run(run["id"])["state"] == "Failed"


def test_transitions_the_table_forbids_are_refused(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    client.set_flow_run_state(run["id"], "Running")
    with pytest.raises(InvalidTransitionError, match="from Running to Scheduled"):
        client.set_flow_run_state(run["id"], "Scheduled")
    with pytest.raises(InvalidTransitionError, match="cancel endpoint"):
        client.set_flow_run_state(run["id"], "Cancelling")
    with pytest.raises(ValidationError, match="unknown state 'Sleeping'"):
        client.set_flow_run_state(run["id"], "Sleeping")


def test_a_stale_version_is_a_conflict_and_loses_nothing(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    client.set_flow_run_state(run["id"], "Running", version=1)
    with pytest.raises(VersionConflictError, match="version 2, not 1"):
        client.set_flow_run_state(run["id"], "Failed", version=1)
    assert client.get_flow_run(run["id"])["state"] == "Running"


def test_two_concurrent_writers_on_one_version_one_wins(
    client: Client, server, flow_id: str
) -> None:
    runs = [client.create_flow_run(flow_id)["id"] for _ in range(8)]
    outcomes: dict[str, list[str]] = {r: [] for r in runs}
    barrier = threading.Barrier(2)

    def writer(state: str) -> None:
        with Client(server.url, retries=0) as own:
            barrier.wait()
            for run_id in runs:
                try:
                    own.set_flow_run_state(run_id, state, version=1)
                    outcomes[run_id].append(state)
                except VersionConflictError:
                    pass

    threads = [threading.Thread(target=writer, args=(s,)) for s in ("Running", "Cancelled")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for run_id, won in outcomes.items():
        assert len(won) == 1, (run_id, won)
        stored = client.get_flow_run(run_id)
        assert (stored["state"], stored["version"]) == (won[0], 2)
        assert len(client.get_flow_run_states(run_id)) == 2


def test_task_run_state_endpoint_checks_transitions_and_versions(
    client: Client, flow_id: str
) -> None:
    run = client.create_flow_run(flow_id)
    task = client.get_task_runs(run["id"], task_slug="extract-1")[0]
    serialized = {"type": "Success", "result": {"location": "/tmp/r1"}}
    client.set_task_run_state(task["id"], "Running", version=0)
    with pytest.raises(VersionConflictError):
        client.set_task_run_state(task["id"], "Success", version=0)
    client.set_task_run_state(task["id"], "Success", version=1, serialized=serialized)
    with pytest.raises(InvalidTransitionError):
        client.set_task_run_state(task["id"], "Running", version=2)
    stored = client.get_task_run(task["id"])
    assert (stored["state"], stored["version"], stored["state_serialized"]) == (
        "Success",
        2,
        serialized,
    )
    history = client.get_task_run_states(task["id"])
    assert [s["name"] for s in history] == ["Running", "Success"]
    assert len(client.get_flow_run_states(run["id"], task_runs=True)) == 3
