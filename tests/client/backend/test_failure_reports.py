"""Why a run failed reaches a live server: the failing task run's state carries the error's
type, message and traceback (secrets masked), the run's logs hold the traceback at ERROR
from the task's logger, every attempt of a retried task is in its history with its error,
and a flow run that fails before its flow starts carries the storage's error."""

from __future__ import annotations

from typing import Any

from headrace import Flow, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner, execute_flow_run
from headrace.configuration import config

SECRET = "hunter2-s3cr3t"


def _register(api: Client, flow: Flow) -> str:
    return api.register(flow, project_name="failures", build=False)


def _amount(value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"row 2: amount {value!r} is not an integer (token {SECRET})")
    return int(value)


def test_a_failed_task_run_carries_its_error_and_its_logs_the_traceback(api: Client) -> None:
    with config.override(**{"context": {"secrets": {"TOKEN": SECRET}}}):

        @task
        def parse_amounts(values: list[str]) -> list[int]:
            return [_amount(v) for v in values]

        with Flow("billing-report") as flow:
            parse_amounts(["1", "oops"])

        run = api.create_flow_run(_register(api, flow))
        BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
        (task_run,) = api.get_task_runs(run["id"])
        assert task_run["state"] == "Failed"
        error = task_run["state_serialized"]["error"]
        assert error["type"] == "ValueError"
        assert error["message"] == "row 2: amount 'oops' is not an integer (token ********)"
        frames = [line for line in error["traceback"].splitlines() if line.startswith('  File "')]
        assert frames[0].endswith("in parse_amounts")
        assert frames[-1].endswith("in _amount")
        assert "headrace/engine" not in error["traceback"]
        assert SECRET not in str(task_run["state_serialized"])
        assert task_run["state_message"].endswith("(token ********)")

        # The history keeps the error with the Failed state too.
        history = api.get_task_run_states(task_run["id"])
        assert history[-1]["name"] == "Failed"
        assert history[-1]["serialized"]["error"]["type"] == "ValueError"

        errors = [log for log in api.get_logs(run["id"]) if log["level"] == 40]
        from_task = [log for log in errors if log["name"] == "headrace.task.parse_amounts"]
        assert len(from_task) == 1
        assert from_task[0]["task_run_id"] == task_run["id"]
        assert "Traceback (most recent call last):" in from_task[0]["message"]
        assert "in _amount" in from_task[0]["message"]
        assert SECRET not in from_task[0]["message"] and "********" in from_task[0]["message"]


def test_each_attempt_of_a_retried_task_is_in_its_history(api: Client) -> None:
    @task(max_retries=2, retry_delay=0)
    def always_bad() -> int:
        return _amount("x")

    with Flow("retried") as flow:
        always_bad()

    run = api.create_flow_run(_register(api, flow))
    BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    (task_run,) = api.get_task_runs(run["id"])
    history = api.get_task_run_states(task_run["id"])
    names = [h["name"] for h in history if h["name"] != "Pending"]
    assert names == ["Running", "Retrying", "Running", "Retrying", "Running", "Failed"]
    for h in history:
        if h["name"] in ("Retrying", "Failed"):
            assert h["serialized"]["error"]["message"].startswith("row 2: amount 'x'")
    attempts = api.get_task_run_attempts(task_run["id"])
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["state"] for a in attempts] == ["Retrying", "Retrying", "Failed"]
    for a in attempts:
        assert a["start"] is not None and a["end"] is not None and a["start"] <= a["end"]
        assert a["error"]["type"] == "ValueError"
        assert "row 2" in a["message"]


def test_a_flow_run_that_cannot_load_its_flow_carries_the_storage_error(api: Client) -> None:
    @task
    def one() -> int:
        return 1

    with Flow("unloadable") as flow:
        one()
    document: dict[str, Any] = flow.serialize()
    document["storage"] = {
        "type": "headrace.storage:Module",
        "module": "no_such_module_xyz:flow",
        "labels": [],
        "secrets": [],
        "flows": {"unloadable": "no_such_module_xyz:flow"},
    }
    project = api.create_project("broken", exist_ok=True)
    flow_id = api.register_document(document, project_id=project["id"])["id"]
    run = api.create_flow_run(flow_id)
    assert execute_flow_run(run["id"], client=api, exit_on_cancel=False) == "Failed"
    failed = api.get_flow_run(run["id"])
    error = failed["state_serialized"]["error"]
    assert "no_such_module_xyz" in error["message"]
    assert error["traceback"].startswith("Traceback (most recent call last):")
    page = api.request("GET", f"/ui/flow_runs/{run['id']}")
    assert page["failures"] == [] and page["run_error"]["message"] == error["message"]
    logs = [log for log in api.get_logs(run["id"]) if log["level"] == 40]
    assert any(
        "no_such_module_xyz" in log["message"] and "Traceback" in log["message"] for log in logs
    )


def test_a_task_runs_page_data_has_neighbours_attempts_and_result_location(
    api: Client, tmp_path: Any
) -> None:
    from headrace.engine.results import LocalResult

    @task
    def numbers() -> list[str]:
        return ["1", "x", "3"]

    @task(max_retries=1, retry_delay=0)
    def parse(text: str) -> int:
        return _amount(text)

    @task
    def keep(values: list[str]) -> int:
        return len(values)

    with Flow("neighbours", result=LocalResult(dir=str(tmp_path))) as flow:
        rows = numbers()
        parse.map(rows)
        keep(rows)

    run = api.create_flow_run(_register(api, flow))
    BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    runs = {(t["task_name"], t["map_index"]): t for t in api.get_task_runs(run["id"])}
    child = runs[("parse", 1)]
    page = api.request("GET", f"/ui/task_runs/{child['id']}")
    assert page["task_run"]["state"] == "Failed"
    assert page["task_run"]["error"]["message"].startswith("row 2: amount 'x'")
    assert [a["state"] for a in page["attempts"]] == ["Retrying", "Failed"]
    assert [h["name"] for h in page["history"]][-1] == "Failed"
    assert page["history"][-1]["duration"] is None  # the final state lasts
    assert all(h["duration"] >= 0 for h in page["history"][:-1])
    assert [u["task_name"] for u in page["upstream"]] == ["numbers"]
    assert any("Traceback" in log["message"] for log in page["logs"])
    source = api.request("GET", f"/ui/task_runs/{runs[('numbers', -1)]['id']}")
    assert source["task_run"]["result_location"]
    assert {d["task_name"] for d in source["downstream"]} == {"parse", "keep"}
    parent = api.request("GET", f"/ui/task_runs/{runs[('parse', -1)]['id']}")
    assert parent["task_run"]["children"] == {"Failed": 1, "Success": 2}
    summary = api.request("GET", f"/ui/flow_runs/{run['id']}")
    assert [(f["task_name"], f["map_index"]) for f in summary["failures"]] == [("parse", 1)]
    assert summary["failures"][0]["error"]["type"] == "ValueError"


def test_a_flow_level_failure_reaches_the_server_with_its_error(api: Client) -> None:
    def broken_handler(flow: Flow, old: Any, new: Any) -> Any:
        raise ValueError("the flow's handler broke")

    @task
    def one() -> int:
        return 1

    with Flow("flow-level", state_handlers=[broken_handler]) as flow:
        one()

    run = api.create_flow_run(_register(api, flow))
    state = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert state.is_failed()
    failed = api.get_flow_run(run["id"])
    assert failed["state"] == "Failed"
    error = failed["state_serialized"]["error"]
    assert error["type"] == "ValueError" and error["message"] == "the flow's handler broke"
    assert "in broken_handler" in error["traceback"]
