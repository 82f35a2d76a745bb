"""The reporter's batching rules and its bounded queue, without a server (the sending side
is covered against a live server in ``test_backend_runner.py``)."""

from __future__ import annotations

import threading

from headrace.client.backend import reporter as reporter_module
from headrace.client.backend.logs import BackendLogHandler
from headrace.client.backend.reporter import Reporter
from headrace.client.backend.states import state_from_json, state_to_json
from headrace.engine.results.local import LocalResult
from headrace.engine.state import Failed, Pending, Running, Skipped, Success


def test_a_flow_state_opens_a_batch_so_order_is_kept() -> None:
    r = Reporter(client=None, flow_run_id="run")
    items = [
        ("f", Running()),
        ("t", "a-1", -1, Running(), "a", None),
        ("t", "a-1", -1, Success(), "a", None),
        ("l", {"message": "hello"}),
        ("f", Success()),
    ]
    first, second = r._batches(items)
    assert first["flow_run_state"]["state"]["name"] == "Running"
    assert first["task_states"]["tasks"] == [{"task_slug": "a-1", "task_name": "a"}]
    assert [row[:3] for row in first["task_states"]["rows"]] == [
        [0, -1, "Running"],
        [0, -1, "Success"],
    ]
    assert first["logs"] == [{"message": "hello"}]
    assert second["flow_run_state"]["state"]["name"] == "Success"
    assert "task_states" not in second and first["batch_id"] != second["batch_id"]


def test_compact_rows_carry_what_a_task_state_change_carries(tmp_path) -> None:
    r = Reporter(client=None, flow_run_id="run")
    result = LocalResult(dir=str(tmp_path)).write(3, location="three.pickle")
    done = Success("done", 3, persisted=result)
    items = [
        ("t", "m-1", 0, Running(), "m", ["b", "a"]),
        ("t", "x-1", -1, Failed("boom"), "x", None),
        ("t", "m-1", 0, done, "m", ["b", "a"]),
    ]
    (body,) = r._batches(items)
    assert body["results"] == "problems"
    assert body["task_states"]["tasks"] == [
        {"task_slug": "m-1", "task_name": "m", "tags": ["a", "b"]},
        {"task_slug": "x-1", "task_name": "x"},
    ]
    running, failed, success = body["task_states"]["rows"]
    assert running[:3] == [0, 0, "Running"] and running[4:] == [None, None, None]
    assert failed[:5] == [1, -1, "Failed", failed[3], "boom"]
    assert success[3] == done.timestamp and success[4] == "done"
    assert success[5] == state_to_json(done)["serialized"]
    assert success[5]["result"]["location"] == result.location


def test_large_batches_are_split() -> None:
    r = Reporter(client=None, flow_run_id="run")
    items = [("t", "m-1", i, Success(), "m", None) for i in range(reporter_module.MAX_BATCH + 1)]
    batches = r._batches(items)
    assert [len(b["task_states"]["rows"]) for b in batches] == [reporter_module.MAX_BATCH, 1]


def test_a_full_queue_makes_the_producer_wait() -> None:
    r = Reporter(client=None, flow_run_id="run", max_queue=2)
    producer = threading.Thread(target=lambda: [r.log({"n": i}) for i in range(3)], daemon=True)
    producer.start()
    producer.join(0.5)
    assert producer.is_alive(), "the third record waits for room"
    items, _ = r._drain()
    producer.join(10)
    assert not producer.is_alive()
    assert len(items) + r.queue.qsize() == 3


def test_states_round_trip_through_json(tmp_path: object) -> None:
    result = LocalResult(dir=str(tmp_path)).write(42, task_slug="t")
    ok = Success("done", 42, persisted=result)
    doc = state_to_json(ok)
    assert doc["serialized"]["result"]["location"] == result.location
    back = state_from_json(doc["name"], doc["message"], doc["serialized"])
    assert isinstance(back, Success) and back.result == 42
    assert state_to_json(Running())["serialized"] is None
    # a success whose value cannot be found again runs again; skips stay skips
    assert isinstance(state_from_json("Success", None, None), Pending)
    assert isinstance(state_from_json("Skipped", "skip", None), Skipped)
    assert isinstance(state_from_json("Failed", "boom", None), Failed)


def test_secret_values_are_masked() -> None:
    handler = BackendLogHandler(Reporter(client=None, flow_run_id="run"), ["s3cr3t-token"])
    assert handler.redact("token=s3cr3t-token!") == "token=********!"


def test_every_body_the_reporter_builds_is_a_valid_report_of_the_wire_schema(tmp_path) -> None:
    """The reporter writes its hot-path bodies by hand (no model per row); the server reads
    them with ``headrace.wire.ReportIn``: each kind of item it sends must fit that schema."""
    import json

    from headrace.engine import state as s
    from headrace.wire import ReportIn

    r = Reporter(client=None, flow_run_id="run")
    result = LocalResult(dir=str(tmp_path)).write(3, location="three.pickle")
    kinds = [k for k in s.KINDS if k is not s.Mapped]
    items: list[tuple] = [("f", Running("started"))]
    for i, kind in enumerate(kinds):
        items.append(("t", f"t-{i}", -1, kind(f"a {kind.__name__}"), f"task {i}", ["x"]))
    items += [
        ("t", "m-1", 7, Success("done", 3, persisted=result), "m", None),
        ("t", "m-1", 8, Failed("boom", ValueError("boom")), "m", None),
        ("l", log_record_for_test()),
        ("f", Success("All reference tasks succeeded.")),
    ]
    bodies = r._batches(items)
    assert bodies
    for body in bodies:
        ReportIn.model_validate(json.loads(json.dumps(body)))  # raises naming what is off


def log_record_for_test() -> dict:
    from headrace.client.backend.reporter import log_record

    return log_record("hello", 20, "headrace.task.x", 1_700_000_000.0, "t-0", -1)
