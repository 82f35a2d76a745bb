"""Flows of flows through a live server and a real agent: a parent starts a child, waits
for it, reads its task's result; a restart of the parent does not start the child again;
the runs are linked both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.agent.backend_support import register_script, wait_for

from headrace.agent import LocalAgent
from headrace.client import Client

FLOWS = Path(__file__).parent / "flows"


def _finished_attempt(api: Client, run_id: str, attempt: int) -> dict:
    return wait_for(
        lambda: (
            (r := api.get_flow_run(run_id))["run_count"] >= attempt
            and r["state"] in ("Success", "Failed")
            and r
        ),
        120,
        f"attempt {attempt} of {run_id}",
    )


def test_parent_starts_waits_for_and_reads_a_child_once(
    api: Client, agent_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(tmp_path)}
    monkeypatch.setenv("HEADRACE_TEST_COUNTS", str(tmp_path))
    register_script(api, FLOWS / "child.py")
    parent = api.create_flow_run(register_script(api, FLOWS / "parent.py"))
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env).start()
    try:
        first = _finished_attempt(api, parent["id"], 1)
        assert first["state"] == "Failed"  # record() is held back
        children = [r for r in api.get_flow_runs() if r["id"] != parent["id"]]
        assert len(children) == 2 and all(c["state"] == "Success" for c in children)
        (tmp_path / "release").write_text("go")
        api.restart_flow_run(parent["id"])
        second = _finished_attempt(api, parent["id"], 2)
    finally:
        agent.stop()
    assert second["state"] == "Success", second
    # Still two children: the restart found them by the parent's task runs.
    runs = api.get_flow_runs()
    children = [r for r in runs if r["id"] != parent["id"]]
    assert len(children) == 2
    assert len((tmp_path / "child").read_text().splitlines()) == 2
    by_x = {c["parameters"]["x"]: c for c in children}
    value, other = (tmp_path / "out.txt").read_text().split("|")
    assert value == "42" and other == by_x[5]["id"]
    # Parent and child are linked both ways.
    parent_tasks = {t["id"]: t for t in api.get_task_runs(parent["id"])}
    assert {c["parent_task_run_id"] for c in children} <= set(parent_tasks)
    starter = parent_tasks[by_x[21]["parent_task_run_id"]]
    assert starter["task_name"] == "create_flow_run"
    page = api.request("GET", f"/ui/flow_runs/{by_x[21]['id']}")
    assert page["parent"]["flow_run_id"] == parent["id"]
    parent_page = api.request("GET", f"/ui/flow_runs/{parent['id']}")
    assert {c["id"] for c in parent_page["child_runs"]} == set(by_x[x]["id"] for x in (5, 21))
    # StartFlowRun linked the child it started (create_link_artifact=True by default).
    starter_id = by_x[5]["parent_task_run_id"]
    links = api.get_artifacts(parent["id"], task_run_id=starter_id)
    assert [a["data"]["link"] for a in links if a["kind"] == "link"] == [f"/runs/{by_x[5]['id']}"]
    # The child's log lines were streamed into the parent's logs.
    messages = [line["message"] for line in api.get_logs(parent["id"])]
    assert any("child doubling 21" in m for m in messages), messages


def test_a_run_renames_and_cancels_itself(
    api: Client, agent_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**agent_env, "HEADRACE_TEST_COUNTS": str(tmp_path)}
    run = api.create_flow_run(register_script(api, FLOWS / "self_control.py"))
    agent = LocalAgent(labels=[], client=api, poll_interval=0.1, env=env).start()
    try:
        final = wait_for(
            lambda: (r := api.get_flow_run(run["id"]))["state"] == "Cancelled" and r,
            120,
            "the run to cancel itself",
        )
    finally:
        agent.stop()
    assert final["name"] == "renamed-by-itself"
    states = {t["task_name"]: t["state"] for t in api.get_task_runs(run["id"])}
    assert states["RenameFlowRun"] == "Success"
    # the cancel may reach the runner before CancelFlowRun's own Success does
    assert states["CancelFlowRun"] in ("Success", "Cancelled")
    assert states.get("after") != "Success"  # the cancel stopped the run before it finished


def test_rename_and_cancel_need_a_run_outside_one() -> None:
    from headrace.tasks.prefect import CancelFlowRun, RenameFlowRun

    with pytest.raises(ValueError, match="flow_run_id"):
        RenameFlowRun(flow_run_name="x").run()
    with pytest.raises(ValueError, match="flow_run_id"):
        CancelFlowRun().run()
    with pytest.raises(ValueError, match="flow_run_name"):
        RenameFlowRun(flow_run_id="some-run").run()


def test_start_flow_run_refuses_a_new_flow_context() -> None:
    from headrace.tasks.prefect import StartFlowRun

    with pytest.raises(ValueError, match="new_flow_context"):
        StartFlowRun(flow_name="child", new_flow_context={"a": 1})


def test_a_bad_name_is_refused_naming_the_field(api: Client) -> None:
    from headrace.client import ValidationError

    with pytest.raises(ValidationError) as refused:
        api.rename_flow_run("any-run", "")
    assert refused.value.field == "name"
    raw = api.request  # the route itself refuses it too (a client without the check)
    with pytest.raises(ValidationError):
        raw("PATCH", "/flow_runs/any-run", json={"name": "x" * 201})
