"""A flow run may succeed only when all its task runs (mapped children included) have
finished and its reference tasks succeeded, whichever way the state arrives (the state
endpoint or a runner's batched report); a refusal is a 409 ``unfinished_task_runs`` that
names the task runs at fault, and leaves the run as it was.

Real parts: a live server over HTTP on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.server.conftest import finish_task_runs

from headrace.client import Client, InvalidTransitionError, UnfinishedTaskRunsError


def _change(slug: str, index: int, version: int, state: str) -> dict[str, Any]:
    return {"task_slug": slug, "map_index": index, "version": version, "state": {"name": state}}


def _running(client: Client, flow_id: str) -> dict[str, Any]:
    run = client.create_flow_run(flow_id)
    client.set_flow_run_state(run["id"], "Running")
    return run


def test_success_with_unfinished_task_runs_is_refused_naming_them(
    client: Client, flow_id: str
) -> None:
    run = _running(client, flow_id)
    extract = client.get_task_runs(run["id"], task_slug="extract-1")[0]
    client.set_task_run_state(extract["id"], "Running", version=0)
    client.set_task_run_state(extract["id"], "Success", version=1)
    with pytest.raises(UnfinishedTaskRunsError) as info:
        client.set_flow_run_state(run["id"], "Success")
    error = info.value
    assert error.status == 409 and error.code == "unfinished_task_runs"
    assert isinstance(error, InvalidTransitionError)
    assert "2 of its task runs have not finished" in str(error)
    assert "load-1 (Pending)" in str(error) and "transform-1 (Pending)" in str(error)
    assert "extract-1" not in str(error)
    stored = client.get_flow_run(run["id"])
    assert (stored["state"], stored["version"]) == ("Running", 2)
    assert [s["name"] for s in client.get_flow_run_states(run["id"])] == ["Scheduled", "Running"]


def test_failed_is_allowed_with_unfinished_task_runs(client: Client, flow_id: str) -> None:
    run = _running(client, flow_id)
    client.set_flow_run_state(run["id"], "Failed", message="broke")
    assert client.get_flow_run(run["id"])["state"] == "Failed"
    assert {t["state"] for t in client.get_task_runs(run["id"])} == {"Cancelled"}


def test_a_report_finishing_its_task_runs_may_succeed_in_the_same_batch(
    client: Client, flow_id: str
) -> None:
    """The report's final flow state is checked after the report's own task-run changes."""
    run = _running(client, flow_id)
    changes = [
        _change(slug, -1, version, state)
        for slug in ("extract-1", "transform-1", "load-1")
        for version, state in ((0, "Running"), (1, "Success"))
    ]
    answer = client.report(
        run["id"],
        {"flow_run_state": {"state": {"name": "Success"}, "version": 2}, "task_runs": changes},
    )
    assert answer["flow_run_status"] == "applied" and answer["flow_run_state"] == "Success"
    assert answer["flow_run_code"] is None


def test_a_pending_mapped_child_blocks_success_in_a_report(client: Client, flow_id: str) -> None:
    run = _running(client, flow_id)
    finish_task_runs(client, run["id"])
    children = [_change("extract-1", i, 0, "Running") for i in range(5)]
    children += [_change("extract-1", i, 1, "Success") for i in (0, 1, 2, 4)]
    answer = client.report(
        run["id"],
        {"flow_run_state": {"state": {"name": "Success"}, "version": 2}, "task_runs": children},
    )
    assert answer["flow_run_status"] == "conflict"
    assert answer["flow_run_code"] == "unfinished_task_runs"
    assert answer["flow_run_detail"].endswith(
        "1 of its task runs have not finished: extract-1[3] (Running)"
    )
    assert answer["flow_run_state"] == "Running"
    # the children's own changes were applied: only the flow state was refused
    states = {
        t["map_index"]: t["state"] for t in client.get_task_runs(run["id"], task_slug="extract-1")
    }
    assert states == {
        -1: "Success",
        0: "Success",
        1: "Success",
        2: "Success",
        3: "Running",
        4: "Success",
    }


def test_many_unfinished_task_runs_are_counted_and_the_first_named(
    client: Client, flow_id: str
) -> None:
    run = _running(client, flow_id)
    finish_task_runs(client, run["id"])
    client.report(run["id"], {"task_runs": [_change("load-1", i, 0, "Running") for i in range(40)]})
    with pytest.raises(UnfinishedTaskRunsError, match=r"40 of its task runs") as info:
        client.set_flow_run_state(run["id"], "Success")
    assert "load-1[0] (Running), load-1[1] (Running)" in str(info.value)
    assert "and 30 more" in str(info.value)


def test_success_is_refused_when_a_reference_task_did_not_succeed(
    client: Client, flow_id: str
) -> None:
    run = _running(client, flow_id)
    rows = {t["task_slug"]: t for t in client.get_task_runs(run["id"])}
    for slug, final in (("extract-1", "Success"), ("transform-1", "Success"), ("load-1", "Failed")):
        client.set_task_run_state(rows[slug]["id"], "Running", version=0)
        client.set_task_run_state(rows[slug]["id"], final, version=1)
    with pytest.raises(
        UnfinishedTaskRunsError, match=r"reference task runs did not all succeed: load-1 \(Failed\)"
    ):
        client.set_flow_run_state(run["id"], "Success")
    client.set_flow_run_state(run["id"], "Failed", message="load failed")
    assert client.get_flow_run(run["id"])["state"] == "Failed"
