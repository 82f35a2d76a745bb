"""The runner's batched report: many states, logs and a heartbeat per request."""

from __future__ import annotations

import uuid
from datetime import datetime

from headrace.client import Client


def _state(name: str, **extra):
    return {"name": name, **extra}


def test_a_large_map_is_reported_in_a_few_requests(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    rid = run["id"]
    answer = client.report(rid, {"flow_run_state": {"state": _state("Running"), "version": 1}})
    assert answer["flow_run_status"] == "applied" and answer["flow_run_version"] == 2
    n = 3000
    running = [
        {"task_slug": "transform-1", "map_index": i, "version": 0, "state": _state("Running")}
        for i in range(n)
    ]
    done = [
        {
            "task_slug": "transform-1",
            "map_index": i,
            "version": 1,
            "state": _state("Success", serialized={"location": f"/r/{i}"}),
        }
        for i in range(n)
    ]
    logs = [{"task_slug": "transform-1", "map_index": i, "message": f"child {i}"} for i in range(n)]
    first = client.report(rid, {"batch_id": "b1", "task_runs": running + done[: n // 2]})
    assert {r["status"] for r in first["task_runs"]} == {"applied"}
    second = client.report(rid, {"batch_id": "b2", "task_runs": done[n // 2 :], "logs": logs})
    assert second["logs_inserted"] == n
    counts = client.get_flow_run(rid)["task_run_counts"]
    assert counts == {"Success": n, "Pending": 3}
    summary = {t["task_slug"]: t for t in client.get_task_run_summary(rid)}
    assert summary["transform-1"] == {
        "task_slug": "transform-1",
        "task_name": "transform",
        "state": "Pending",
        "children_total": n,
        "children": {"Success": n},
    }
    assert summary["load-1"]["children_total"] == 0
    child = client.get_task_runs(rid, task_slug="transform-1", limit=2, offset=1)[1]
    assert (child["map_index"], child["version"]) == (1, 2)
    assert child["state_serialized"] == {"location": "/r/1"}
    tagged = client.get_logs(rid, task_run_id=child["id"])
    assert [r["message"] for r in tagged] == ["child 1"]


def test_a_retried_batch_is_a_no_op(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")
    batch = {
        "batch_id": uuid.uuid4().hex,
        "task_runs": [{"task_slug": "extract-1", "version": 0, "state": _state("Running")}],
        "logs": [{"message": "hello", "level": 20}],
    }
    first = client.report(rid, batch)
    again = client.report(rid, batch)
    assert again == first
    assert len(client.get_logs(rid)) == 1
    assert client.get_task_runs(rid, task_slug="extract-1")[0]["version"] == 1


def test_per_change_versions_detect_duplicates_and_conflicts(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")
    change = {"task_slug": "load-1", "version": 0, "state": _state("Running")}
    assert client.report(rid, {"task_runs": [change]})["task_runs"][0]["status"] == "applied"
    replay = client.report(rid, {"task_runs": [change]})["task_runs"][0]
    assert (replay["status"], replay["version"]) == ("duplicate", 1)
    stale = {"task_slug": "load-1", "version": 0, "state": _state("Failed")}
    conflict = client.report(rid, {"task_runs": [stale]})["task_runs"][0]
    assert conflict["status"] == "conflict" and "version 1" in conflict["detail"]
    bad = {"task_slug": "load-1", "version": 1, "state": _state("Pending")}
    rejected = client.report(rid, {"task_runs": [bad]})["task_runs"][0]
    assert rejected["status"] == "rejected" and "Running to Pending" in rejected["detail"]
    assert client.get_task_runs(rid, task_slug="load-1")[0]["state"] == "Running"
    flow_replay = client.report(rid, {"flow_run_state": {"state": _state("Running"), "version": 1}})
    assert flow_replay["flow_run_status"] == "duplicate"
    stale_flow = client.report(rid, {"flow_run_state": {"state": _state("Success"), "version": 1}})
    assert stale_flow["flow_run_status"] == "conflict"
    assert client.get_flow_run(rid)["state"] == "Running"


def test_reports_and_heartbeats_refresh_the_heartbeat(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")

    def last_beat() -> datetime:
        return datetime.fromisoformat(client.get_flow_run(rid)["heartbeat"])

    first = last_beat()
    client.report(rid, {"heartbeat": True})
    second = last_beat()
    beat = client.heartbeat(rid)
    assert beat == {"state": "Running", "version": 2, "cancel_requested": False}
    assert first < second < last_beat()


def test_task_tag_concurrency_limit_rejects_extra_starts(client: Client, project: dict) -> None:
    from tests.server.conftest import flow_document

    doc = flow_document(tasks=("a", "b", "c"), tags={"a": ["db"], "b": ["db"], "c": ["db"]})
    flow = client.register_document(doc, project_id=project["id"])
    client.set_concurrency_limit("task_tag", "db", 2)
    rid = client.create_flow_run(flow["id"])["id"]
    client.set_flow_run_state(rid, "Running")
    changes = [{"task_slug": f"{t}-1", "version": 0, "state": _state("Running")} for t in "abc"]
    statuses = [r["status"] for r in client.report(rid, {"task_runs": changes})["task_runs"]]
    assert statuses == ["applied", "applied", "rejected"]
    assert client.get_concurrency_limits()[0]["active"] == 2
    finish = {"task_slug": "a-1", "version": 1, "state": _state("Success")}
    retry = {"task_slug": "c-1", "version": 0, "state": _state("Running")}
    out = client.report(rid, {"task_runs": [finish, retry]})["task_runs"]
    assert [r["status"] for r in out] == ["applied", "applied"]
