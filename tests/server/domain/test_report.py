"""The runner's batched report: many states, logs and a heartbeat per request."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

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
    assert beat == {"state": "Running", "version": 2, "cancel_requested": False, "run_count": 1}
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


# --- the compact form (``task_states``) ------------------------------------------------------
def _rows(*rows):
    """Compact rows padded to their 7 columns."""
    return [list(r) + [None] * (7 - len(r)) for r in rows]


def _children(client: Client, flow_run_id: str, slug: str) -> dict[int, dict]:
    """The mapped children of task ``slug`` in a run, by map index."""
    listed = client.get_task_runs(flow_run_id, task_slug=slug, include_children=True)
    return {c["map_index"]: c for c in listed if c["map_index"] >= 0}


def test_compact_rows_record_every_change_like_task_runs(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")
    t0 = 1_700_000_000.25
    n = 50
    rows = [(0, i, "Running", t0 + i) for i in range(n)]
    rows += [
        (0, i, "Success", t0 + n + i, "done", {"result": {"location": f"/r/{i}"}}) for i in range(n)
    ]
    rows += [(1, -1, "Running", "2023-11-14T22:13:20+00:00")]
    body = {
        "batch_id": "compact-1",
        "results": "problems",
        "task_states": {
            "tasks": [
                {"task_slug": "transform-1", "task_name": "transform"},
                {"task_slug": "load-1"},
            ],
            "rows": _rows(*rows),
        },
    }
    answer = client.report(rid, body)
    assert answer["task_runs"] == [] and answer["task_runs_applied"] == 2 * n + 1
    assert client.report(rid, body) == answer  # a retried batch is a no-op
    children = client.get_task_runs(rid, task_slug="transform-1", include_children=True, limit=100)
    by_index = {c["map_index"]: c for c in children}
    assert len(by_index) == n + 1  # the parent and its n children
    child = by_index[7]
    assert (child["state"], child["version"], child["task_name"]) == ("Success", 2, "transform")
    assert child["state_message"] == "done"
    assert child["state_serialized"] == {"result": {"location": "/r/7"}}
    history = client.request(
        "GET", f"/flow_runs/{rid}/states", params={"task_runs": True, "limit": 10000}
    )
    mine = [h for h in history if h["task_run_id"] == child["id"]]
    assert [(h["name"], h["version"]) for h in mine] == [("Running", 1), ("Success", 2)]
    stamps = [datetime.fromisoformat(h["timestamp"]).timestamp() for h in mine]
    assert stamps == [t0 + 7, t0 + n + 7]
    assert client.get_task_runs(rid, task_slug="load-1")[0]["state"] == "Running"


def test_compact_rows_report_only_problems_with_versions(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")
    tasks = [{"task_slug": "extract-1"}]
    first = {"tasks": tasks, "rows": _rows((0, -1, "Running", None, None, None, 0))}
    assert client.report(rid, {"task_states": first})["task_runs"][0]["status"] == "applied"
    replay = client.report(rid, {"task_states": first, "results": "problems"})
    assert [r["status"] for r in replay["task_runs"]] == ["duplicate"]
    assert replay["task_runs_applied"] == 0
    rows = _rows(
        (0, -1, "Failed", None, None, None, 0),  # stale version
        (0, -1, "Pending", None, None, None, 1),  # Running -> Pending is not allowed
        (0, -1, "Bogus"),
        (0, -1, "Success", None, None, None, 1),
    )
    out = client.report(rid, {"task_states": {"tasks": tasks, "rows": rows}, "results": "problems"})
    assert [r["status"] for r in out["task_runs"]] == ["conflict", "rejected", "rejected"]
    assert "unknown state 'Bogus'" in out["task_runs"][2]["detail"]
    assert out["task_runs_applied"] == 1
    assert client.get_task_runs(rid, task_slug="extract-1")[0]["version"] == 2


def test_task_runs_apply_before_compact_rows(client: Client, flow_id: str) -> None:
    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")
    body = {
        "task_runs": [{"task_slug": "load-1", "state": _state("Running")}],
        "task_states": {"tasks": [{"task_slug": "load-1"}], "rows": _rows((0, -1, "Success"))},
    }
    out = client.report(rid, body)["task_runs"]
    assert [(r["status"], r["state"], r["version"]) for r in out] == [
        ("applied", "Running", 1),
        ("applied", "Success", 2),
    ]


def test_bad_compact_rows_are_refused_and_store_nothing(client: Client, flow_id: str) -> None:
    from headrace.client.errors import ApiError

    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")
    tasks = [{"task_slug": "load-1"}]
    for rows, says in (
        ([[1, -1, "Running", None, None, None, None]], "task 1 is not a position"),
        ([[0, -2, "Running", None, None, None, None]], "greater than or equal to -1"),
        ([[0, -1, "Running"]], "rows"),
        ([[0, -1, "Running", "yesterday", None, None, None]], "rows"),
    ):
        body = {"task_states": {"tasks": tasks, "rows": rows}, "logs": [{"message": "x"}]}
        try:
            client.report(rid, body)
        except ApiError as exc:
            assert exc.status == 422 and says in str(exc), str(exc)
        else:
            raise AssertionError(f"{rows} was accepted")
    assert client.get_task_runs(rid, task_slug="load-1")[0]["version"] == 0
    assert client.get_logs(rid) == []


def test_the_collector_pause_nests_and_restores() -> None:
    """The pause big batches and big pages take (:mod:`headrace.core.gc_pause`), across
    request threads."""
    import gc
    import threading

    from headrace.core.gc_pause import paused

    assert gc.isenabled()
    inner_done = threading.Event()
    with paused():
        assert not gc.isenabled()

        def other_request() -> None:
            with paused():
                assert not gc.isenabled()
            inner_done.set()

        thread = threading.Thread(target=other_request)
        thread.start()
        thread.join()
        assert inner_done.is_set() and not gc.isenabled()  # still one user: this block
    assert gc.isenabled()


def test_compact_rows_update_children_created_by_an_earlier_report(
    client: Client, flow_id: str
) -> None:
    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")
    tasks = [{"task_slug": "transform-1", "tags": ["b", "a"]}]
    t0 = 1_700_000_000.5
    started = _rows(*[(0, i, "Running", t0) for i in range(20)])
    client.report(rid, {"task_states": {"tasks": tasks, "rows": started}})
    done = _rows(
        *[
            (0, i, "Success", t0 + 1 + i, None, {"result": {"location": f"r{i}"}})
            for i in range(10)
        ],
        *[(0, i, "Failed", t0 + 1 + i, f"boom {i}") for i in range(10, 20)],
    )
    out = client.report(rid, {"task_states": {"tasks": tasks, "rows": done}, "results": "problems"})
    assert out["task_runs"] == [] and out["task_runs_applied"] == 20
    kids = _children(client, rid, "transform-1")
    assert kids[3]["state"] == "Success" and kids[3]["version"] == 2
    assert kids[3]["state_serialized"] == {"result": {"location": "r3"}}
    assert datetime.fromisoformat(kids[3]["state_timestamp"]).timestamp() == t0 + 4
    assert kids[15]["state"] == "Failed" and kids[15]["state_message"] == "boom 15"
    assert kids[15]["state_serialized"] is None and kids[15]["tags"] == ["a", "b"]


@pytest.mark.parametrize("later", [False, True], ids=["one-report", "finished-by-a-later-one"])
def test_a_childs_times_are_stored_to_the_microsecond_as_the_runner_took_them(
    client: Client, flow_id: str, later: bool
) -> None:
    # Unix seconds from a report are bound as text on SQLite and in PostgreSQL's COPY, and
    # for a child a later report finishes, in the bulk UPDATE (on PostgreSQL one statement
    # over arrays): the stored times must be those datetime.fromtimestamp gives (its
    # rounding included)
    from datetime import UTC

    run = client.create_flow_run(flow_id)
    rid = run["id"]
    client.set_flow_run_state(rid, "Running")
    tasks = [{"task_slug": "transform-1"}]
    stamps = [1_764_806_400.1234565, 1_764_806_400.9999996, 946_684_799.000001, 0.5]
    started = [(0, i, "Running", t, "Starting task run.") for i, t in enumerate(stamps)]
    done = [(0, i, "Success", t + 1.25) for i, t in enumerate(stamps)]
    if later:
        first = client.report(rid, {"task_states": {"tasks": tasks, "rows": _rows(*started)}})
        out = client.report(rid, {"task_states": {"tasks": tasks, "rows": _rows(*done)}})
        assert out["task_runs_applied"] == len(stamps)
        applied = first["task_runs_applied"] + out["task_runs_applied"]
    else:
        rows = _rows(*[row for pair in zip(started, done, strict=True) for row in pair])
        applied = client.report(rid, {"task_states": {"tasks": tasks, "rows": rows}})[
            "task_runs_applied"
        ]
    assert applied == 2 * len(stamps)
    kids = _children(client, rid, "transform-1")
    for i, t in enumerate(stamps):
        assert datetime.fromisoformat(kids[i]["start_time"]) == datetime.fromtimestamp(t, UTC)
        end = datetime.fromisoformat(kids[i]["end_time"])
        assert end == datetime.fromtimestamp(t + 1.25, UTC)
        assert datetime.fromisoformat(kids[i]["state_timestamp"]) == end
