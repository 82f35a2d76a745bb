"""A flow run that ends Cancelled (or is failed by the reaper) leaves no task run behind
Pending or Running: each unfinished one becomes Cancelled, with a message and a history row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from tests.support.headrace_server import LiveServer

from headrace.client import Client
from headrace.server.db.database import Database
from headrace.server.db.models import StateRecord, TaskRun, utcnow
from headrace.server.domain.states import cancel_unfinished_task_runs
from headrace.server.services.reaper import reap_zombies


def _running(client: Client, flow_id: str) -> str:
    run_id = client.create_flow_run(flow_id)["id"]
    client.claim_flow_runs(client.register_agent("a")["id"])
    client.set_flow_run_state(run_id, "Running")
    return run_id


def _mid_flight(client: Client, run_id: str) -> None:
    """extract succeeded; transform is mapped (children 0, 1 succeeded, 2, 3 running, 4
    pending) while its parent row is still Pending; load never started."""
    rows: list[list[Any]] = [
        [0, -1, "Running", None, None, None, 0],
        [0, -1, "Success", None, None, None, 1],
    ]
    for i in range(4):
        rows.append([1, i, "Running", None, None, None, 0])
    rows += [[1, 0, "Success", None, None, None, 1], [1, 1, "Success", None, None, None, 1]]
    tasks = [{"task_slug": "extract-1"}, {"task_slug": "transform-1"}]
    client.report(run_id, {"task_states": {"tasks": tasks, "rows": rows}})
    client.create_task_runs(run_id, [{"task_slug": "transform-1", "map_index": 4}])


def _by_key(client: Client, run_id: str) -> dict[tuple[str, int], dict[str, Any]]:
    return {(t["task_slug"], t["map_index"]): t for t in client.get_task_runs(run_id)}


def test_cancel_before_start_cancels_every_task_run(client: Client, flow_id: str) -> None:
    run_id = client.create_flow_run(flow_id)["id"]
    assert client.cancel_flow_run(run_id)["state"] == "Cancelled"
    tasks = client.get_task_runs(run_id)
    assert len(tasks) == 3
    for task in tasks:
        assert (task["state"], task["version"]) == ("Cancelled", 1)
        assert task["state_message"] == "flow run cancelled: cancelled before start"
        history = client.get_task_run_states(task["id"])
        assert [(s["name"], s["version"]) for s in history] == [("Cancelled", 1)]
    assert client.get_flow_run(run_id)["task_run_counts"] == {"Cancelled": 3}


def test_agent_cancelling_a_mapped_run_mid_flight(client: Client, flow_id: str) -> None:
    run_id = _running(client, flow_id)
    _mid_flight(client, run_id)
    assert client.cancel_flow_run(run_id)["state"] == "Cancelling"
    assert _by_key(client, run_id)[("transform-1", 2)]["state"] == "Running"  # not yet
    client.set_flow_run_state(run_id, "Cancelled", message="stopped by agent a")
    tasks = _by_key(client, run_id)
    why = "flow run cancelled: stopped by agent a"
    assert (tasks[("extract-1", -1)]["state"], tasks[("extract-1", -1)]["version"]) == (
        "Success",
        2,
    )
    for i in (0, 1):
        assert tasks[("transform-1", i)]["state"] == "Success"
    expected = {
        ("transform-1", -1): 1,
        ("transform-1", 2): 2,
        ("transform-1", 3): 2,
        ("transform-1", 4): 1,
        ("load-1", -1): 1,
    }
    for key, version in expected.items():
        task = tasks[key]
        assert (task["state"], task["version"], task["state_message"]) == (
            "Cancelled",
            version,
            why,
        ), key
    history = client.get_task_run_states(tasks[("transform-1", 2)]["id"])
    assert [(s["name"], s["version"], s["message"]) for s in history] == [
        ("Running", 1, None),
        ("Cancelled", 2, why),
    ]
    summary = {s["task_slug"]: s for s in client.get_task_run_summary(run_id)}
    assert summary["transform-1"]["state"] == "Cancelled"
    assert summary["transform-1"]["children"] == {"Success": 2, "Cancelled": 3}


def test_a_report_ending_cancelled_applies_its_own_task_changes_first(
    client: Client, flow_id: str
) -> None:
    run_id = _running(client, flow_id)
    _mid_flight(client, run_id)
    client.cancel_flow_run(run_id)
    version = client.get_flow_run(run_id)["version"]
    answer = client.report(
        run_id,
        {
            "flow_run_state": {"state": {"name": "Cancelled"}, "version": version},
            "task_runs": [
                {
                    "task_slug": "transform-1",
                    "map_index": 2,
                    "version": 1,
                    "state": {"name": "Success"},
                }
            ],
        },
    )
    assert answer["flow_run_status"] == "applied"
    assert [t["status"] for t in answer["task_runs"]] == ["applied"]
    tasks = _by_key(client, run_id)
    assert tasks[("transform-1", 2)]["state"] == "Success"
    assert tasks[("transform-1", 3)]["state"] == "Cancelled"
    assert tasks[("transform-1", 3)]["state_message"] == "flow run cancelled"
    assert client.get_flow_run(run_id)["task_run_counts"] == {"Success": 4, "Cancelled": 4}


def test_a_cancel_that_is_not_applied_leaves_task_runs_alone(client: Client, flow_id: str) -> None:
    run_id = _running(client, flow_id)
    _mid_flight(client, run_id)
    stale = client.report(
        run_id, {"flow_run_state": {"state": {"name": "Cancelled"}, "version": 1}}
    )
    assert stale["flow_run_status"] == "conflict"
    counts = client.get_flow_run(run_id)["task_run_counts"]
    assert counts == {"Success": 3, "Running": 2, "Pending": 3}


def test_reaper_cancels_task_runs_of_a_lost_cancelling_run(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    run_id = _running(client, flow_id)
    _mid_flight(client, run_id)
    client.cancel_flow_run(run_id)
    late = datetime.now(UTC) + timedelta(seconds=server.settings.heartbeat_timeout + 1)
    assert reap_zombies(server.db, server.settings, late) == 1
    assert client.get_flow_run(run_id)["state"] == "Cancelled"
    tasks = _by_key(client, run_id)
    running = tasks[("transform-1", 3)]
    assert running["state"] == "Cancelled" and "no heartbeat" in running["state_message"]
    assert client.get_flow_run(run_id)["task_run_counts"] == {"Success": 3, "Cancelled": 5}


def test_reaper_fails_running_and_cancels_waiting_task_runs_of_a_lost_run(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    run_id = _running(client, flow_id)
    _mid_flight(client, run_id)
    late = datetime.now(UTC) + timedelta(seconds=server.settings.heartbeat_timeout + 1)
    assert reap_zombies(server.db, server.settings, late) == 1
    assert client.get_flow_run(run_id)["state"] == "Failed"
    tasks = _by_key(client, run_id)
    assert tasks[("transform-1", 2)]["state"] == "Failed"
    waiting = tasks[("transform-1", 4)]
    assert waiting["state"] == "Cancelled"
    assert waiting["state_message"].startswith("flow run failed: attempt 1 died: no heartbeat")
    assert [s["name"] for s in client.get_task_run_states(waiting["id"])] == ["Cancelled"]
    assert client.get_flow_run(run_id)["task_run_counts"] == {
        "Success": 3,
        "Failed": 2,
        "Cancelled": 3,
    }


def test_cancelling_many_children_takes_a_few_statements(
    client: Client, server: LiveServer, flow_id: str
) -> None:
    run_id = _running(client, flow_id)
    n = 2000
    rows = [[0, i, "Running", None, None, None, 0] for i in range(n)]
    client.report(run_id, {"task_states": {"tasks": [{"task_slug": "transform-1"}], "rows": rows}})
    db = Database(server.settings.database_url)
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        with db.session() as s:
            moved = cancel_unfinished_task_runs(s, run_id, utcnow(), "flow run cancelled")
        assert moved == n + 3
        # the history of children kept in their rows written out, the history rows, the
        # UPDATE: a few statements whatever the number of children
        assert len([q for q in statements if "task_runs" in q]) <= 3, statements
        with db.session(write=False) as s:
            recorded = s.scalar(
                sa.select(sa.func.count())
                .select_from(StateRecord)
                .where(StateRecord.flow_run_id == run_id, StateRecord.name == "Cancelled")
            )
            versions = set(s.scalars(sa.select(TaskRun.version).where(TaskRun.map_index >= 0)))
    finally:
        db.dispose()
    assert recorded == n + 3
    assert versions == {2}
    assert client.get_flow_run(run_id)["task_run_counts"] == {"Cancelled": n + 3}


def test_a_run_failed_from_outside_its_runner_leaves_no_task_run_running(
    client: Client, flow_id: str
) -> None:
    run_id = _running(client, flow_id)
    _mid_flight(client, run_id)
    # what an agent does after killing a run that would not stop within its grace period
    client.set_flow_run_state(run_id, "Failed", message="killed by agent a")
    tasks = _by_key(client, run_id)
    why = "flow run failed: killed by agent a"
    running = tasks[("transform-1", 2)]
    assert (running["state"], running["state_message"]) == ("Failed", why)
    assert [s["name"] for s in client.get_task_run_states(running["id"])] == [
        "Running",
        "Failed",
    ]
    assert (tasks[("transform-1", 4)]["state"], tasks[("load-1", -1)]["state"]) == (
        "Cancelled",
        "Cancelled",
    )
    assert client.get_flow_run(run_id)["task_run_counts"] == {
        "Success": 3,
        "Failed": 2,
        "Cancelled": 3,
    }
    # a restart re-runs what the kill interrupted, as after any failure
    client.restart_flow_run(run_id)
    counts = client.get_flow_run(run_id)["task_run_counts"]
    assert counts == {"Success": 3, "Pending": 5}
