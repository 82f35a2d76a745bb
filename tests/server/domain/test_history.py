"""A plain mapped child's history lives in its task-run row; anything else has rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from headrace.client import Client
from headrace.server.db.database import Database
from headrace.server.domain.history import RUNNING_MESSAGE

SLUG = "transform-1"


def _row(index: int, name: str, version: int, message: str | None = None, **extra: Any) -> dict:
    state = {"name": name, "message": message, **extra}
    return {"task_slug": SLUG, "map_index": index, "version": version, "state": state}


def _start(index: int) -> dict:
    return _row(index, "Running", 0, RUNNING_MESSAGE)


def _history_rows(database_url: str, task_run_id: str) -> list[tuple[str, int]]:
    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT name, version FROM states WHERE task_run_id = :id ORDER BY id"),
                {"id": task_run_id},
            ).all()
            return [(r[0], r[1]) for r in rows]
    finally:
        db.dispose()


def _children(client: Client, rid: str) -> dict[int, dict[str, Any]]:
    return {
        t["map_index"]: t for t in client.get_task_runs(rid, task_slug=SLUG) if t["map_index"] >= 0
    }


def _names(client: Client, task_run_id: str) -> list[tuple[str, int, str | None]]:
    return [
        (s["name"], s["version"], s["message"]) for s in client.get_task_run_states(task_run_id)
    ]


def test_plain_children_keep_history_in_the_row_others_get_rows(
    client: Client, flow_id: str, database_url: str
) -> None:
    rid = client.create_flow_run(flow_id)["id"]
    client.set_flow_run_state(rid, "Running")
    first = [
        _start(0),
        _row(0, "Success", 1, "done", serialized={"location": "/r/0"}),
        _start(1),
        _row(1, "Failed", 1, "boom", serialized={"error": {"type": "ValueError"}}),
        _start(2),  # retries in the next batch: a loaded row leaves the row form
        _row(3, "Running", 0, "custom message"),  # not the engine's message: rows at once
        _start(4),  # still running when the flow run is cancelled
    ]
    client.report(rid, {"task_runs": first})
    client.report(
        rid,
        {
            "task_runs": [
                _row(2, "Retrying", 1, "again"),
                _row(2, "Running", 2, RUNNING_MESSAGE),
                _row(2, "Success", 3, "ok"),
            ]
        },
    )
    kids = _children(client, rid)
    # the plain child: no history rows, yet its history and attempts read as before
    assert _history_rows(database_url, kids[0]["id"]) == []
    assert _names(client, kids[0]["id"]) == [
        ("Running", 1, RUNNING_MESSAGE),
        ("Success", 2, "done"),
    ]
    states = client.get_task_run_states(kids[0]["id"])
    assert states[1]["serialized"] == {"location": "/r/0"} and states[0]["id"] == 0
    (attempt,) = client.get_task_run_attempts(kids[0]["id"])
    assert (attempt["attempt"], attempt["state"], attempt["message"]) == (1, "Success", "done")
    assert attempt["start"] is not None and attempt["end"] is not None
    # a failed child: its Running became a row too, before its Failed
    assert _history_rows(database_url, kids[1]["id"]) == [("Running", 1), ("Failed", 2)]
    assert client.get_task_run_attempts(kids[1]["id"])[0]["error"] == {
        "type": "ValueError",
        "message": "",
        "traceback": "",
    }
    # the retried child (its Running stored by the earlier report, in the row)
    assert _history_rows(database_url, kids[2]["id"]) == [
        ("Running", 1),
        ("Retrying", 2),
        ("Running", 3),
        ("Success", 4),
    ]
    assert [a["state"] for a in client.get_task_run_attempts(kids[2]["id"])] == [
        "Retrying",
        "Success",
    ]
    assert _history_rows(database_url, kids[3]["id"]) == [("Running", 1)]
    assert _history_rows(database_url, kids[4]["id"]) == []
    # the flow run's history with its task runs has every state, in either form
    everything = client.get_flow_run_states(rid, task_runs=True)
    per_child = {
        t["id"]: [(s["name"], s["version"]) for s in everything if s["task_run_id"] == t["id"]]
        for t in kids.values()
    }
    assert per_child[kids[0]["id"]] == [("Running", 1), ("Success", 2)]
    assert per_child[kids[4]["id"]] == [("Running", 1)]
    # cancelling the flow run cancels the running child: its Running becomes a row first
    client.cancel_flow_run(rid)
    client.set_flow_run_state(rid, "Cancelled")
    assert _history_rows(database_url, kids[4]["id"]) == [("Running", 1), ("Cancelled", 2)]
    assert _history_rows(database_url, kids[0]["id"]) == []  # finished: untouched
    after = _children(client, rid)
    assert after[4]["state"] == "Cancelled"


def test_columns_count_attempts_and_times(client: Client, flow_id: str) -> None:
    rid = client.create_flow_run(flow_id)["id"]
    client.set_flow_run_state(rid, "Running")
    client.report(
        rid,
        {
            "task_runs": [
                _row(0, "Running", 0, RUNNING_MESSAGE, timestamp="2026-01-01T00:00:01Z"),
                _row(0, "Retrying", 1, "again", timestamp="2026-01-01T00:00:02Z"),
                _row(0, "Running", 2, RUNNING_MESSAGE, timestamp="2026-01-01T00:00:03Z"),
                _row(0, "Success", 3, "ok", timestamp="2026-01-01T00:00:04Z"),
            ]
        },
    )
    child = _children(client, rid)[0]
    assert child["run_count"] == 2
    assert child["start_time"].startswith("2026-01-01T00:00:01")
    assert child["end_time"].startswith("2026-01-01T00:00:04")
