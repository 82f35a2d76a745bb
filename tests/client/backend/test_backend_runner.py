"""The backend flow runner in this process against a live server: batched reporting, a
server restart in the middle of a run, log records with secrets masked, restart from
failure with persisted results, cancellation, and failures before the flow starts."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.agent.backend_support import wait_for
from tests.support.headrace_server import LiveServer

from headrace import Flow, Parameter, context, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner, MissingFlowRunIdError, execute_flow_run
from headrace.configuration import config


def _register(api: Client, flow: Flow) -> str:
    return api.register(flow, project_name="backend", build=False)


def _task_states(api: Client, run_id: str) -> dict[tuple[str, int], str]:
    return {(t["task_name"], t["map_index"]): t["state"] for t in api.get_task_runs(run_id)}


def test_a_mapped_run_is_reported_in_a_few_batches(api: Client) -> None:
    @task
    def numbers(n: int) -> list[int]:
        return list(range(n))

    @task
    def inc(x: int) -> int:
        return x + 1

    with Flow("batched") as flow:
        inc.map(numbers(Parameter("n")))

    run = api.create_flow_run(_register(api, flow), parameters={"n": 500})
    runner = BackendFlowRunner(flow, flow_run_id=run["id"], client=api)
    state = runner.run()
    assert state.is_successful()
    states = _task_states(api, run["id"])
    assert sum(1 for (name, i), s in states.items() if name == "inc" and i >= 0) == 500
    assert set(states.values()) == {"Success", "Mapped"}
    assert api.get_flow_run(run["id"])["state"] == "Success"
    reporter = runner.reporter
    assert reporter is not None
    changes = len(
        api.request(
            "GET", f"/flow_runs/{run['id']}/states", params={"task_runs": True, "limit": 10000}
        )
    )
    assert changes > 1000  # every child's Running and Success are in the history
    assert reporter.requests_sent < 20, "batches, not one request per state"
    assert reporter.dropped_batches == 0


def test_states_survive_a_server_restart(backend_server: LiveServer, api: Client) -> None:
    release = threading.Event()

    @task
    def before() -> int:
        return 1

    @task
    def gate(x: int) -> int:
        assert release.wait(60)
        return x + 1

    @task
    def after(x: int) -> int:
        return x + 1

    with Flow("restart-server") as flow:
        after(gate(before()))

    run = api.create_flow_run(_register(api, flow))
    runner = BackendFlowRunner(flow, flow_run_id=run["id"], client=api)
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.setdefault("state", runner.run()))
    thread.start()
    wait_for(lambda: _task_states(api, run["id"]).get(("gate", -1)) == "Running", 30, "gate")
    backend_server.stop()
    release.set()  # gate, after and the flow finish while the server is down
    time.sleep(1.5)  # several report attempts fail meanwhile
    assert thread.is_alive(), "the run waits for its states to be delivered"
    backend_server.start()
    thread.join(60)
    assert result["state"].is_successful()
    assert _task_states(api, run["id"]) == {
        ("before", -1): "Success",
        ("gate", -1): "Success",
        ("after", -1): "Success",
    }
    assert api.get_flow_run(run["id"])["state"] == "Success"
    history = api.get_flow_run_states(run["id"], task_runs=True)
    keys = [(s["task_run_id"], s["version"]) for s in history]
    assert len(keys) == len(set(keys)), "no state applied twice"


def test_logs_reach_the_server_with_their_task_and_secrets_masked(api: Client) -> None:
    with config.override(**{"context": {"secrets": {"TOKEN": "hunter2-s3cr3t"}}}):

        @task
        def talk(i: int) -> None:
            context.logger.warning("child %s uses token %s", i, "hunter2-s3cr3t")

        with Flow("talky") as flow:
            talk.map([0, 1, 2])

        run = api.create_flow_run(_register(api, flow))
        BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
        logs = [log for log in api.get_logs(run["id"]) if "uses token" in log["message"]]
        assert sorted(log["map_index"] for log in logs) == [0, 1, 2]
        assert all(log["task_run_id"] for log in logs)
        assert all("hunter2" not in log["message"] and "********" in log["message"] for log in logs)


def test_restart_reruns_only_what_failed_reading_persisted_results(
    api: Client, tmp_path: Path
) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()

    def count(name: str) -> int:
        path = calls / name
        n = len(path.read_text()) if path.exists() else 0
        path.write_text("x" * (n + 1))
        return n + 1

    @task
    def source() -> int:
        count("source")
        return 20

    @task
    def flaky(x: int) -> int:
        if count("flaky") == 1:
            raise RuntimeError("first attempt fails")
        return x + 1

    @task
    def square(x: int) -> int:
        count(f"square{x}")
        if x == 2 and not (calls / "fixed").exists():
            raise ValueError("child 2 fails once")
        return x * x

    with Flow("restartable-in-process") as flow:
        last = flaky(source())
        square.map([1, 2, 3])

    run = api.create_flow_run(_register(api, flow))
    first = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert first.is_failed()
    assert api.get_flow_run(run["id"])["state"] == "Failed"
    (calls / "fixed").touch()
    api.restart_flow_run(run["id"])
    second = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert second.is_successful(), second
    assert second.result[last].result == 21  # source's value read back from its result
    ran = {p.name: len(p.read_text()) for p in calls.iterdir() if p.name != "fixed"}
    assert ran == {"source": 1, "flaky": 2, "square1": 1, "square2": 2, "square3": 1}
    assert api.get_flow_run(run["id"])["state"] == "Success"


def test_cancellation_reaches_the_runner(api: Client) -> None:
    with config.override(**{"cloud.heartbeat_interval": 0.2}):
        release = threading.Event()
        cancelled = threading.Event()

        @task
        def wait() -> None:
            release.wait(60)

        with Flow("cancellable") as flow:
            wait()

        run = api.create_flow_run(_register(api, flow))
        runner = BackendFlowRunner(flow, flow_run_id=run["id"], client=api, on_cancel=cancelled.set)
        thread = threading.Thread(target=runner.run)
        thread.start()
        try:
            wait_for(lambda: api.get_flow_run(run["id"])["state"] == "Running", 30, "Running")
            api.cancel_flow_run(run["id"])
            assert cancelled.wait(30), "the reporter heard of the cancellation"
        finally:
            release.set()
            thread.join(30)


def test_a_runner_without_flow_run_id_is_refused() -> None:
    with Flow("nothing") as flow:
        pass
    with pytest.raises(MissingFlowRunIdError, match="nothing"):
        BackendFlowRunner(flow)


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        (
            {"type": "headrace.storage:Module", "module": "no_such_module_xyz:flow"},
            "no_such_module_xyz",
        ),
        (
            {
                "type": "headrace.storage:Local",
                "stored_as_script": True,
                "path": "/nonexistent/f.py",
                "directory": "/tmp",
            },
            "/nonexistent/f.py",
        ),
    ],
)
def test_a_flow_that_cannot_load_fails_its_run_with_the_reason(
    api: Client, storage: dict[str, Any], expected: str
) -> None:
    @task
    def one() -> int:
        return 1

    with Flow("unloadable") as flow:
        one()
    document = flow.serialize()
    document["storage"] = {
        **storage,
        "labels": [],
        "secrets": [],
        "flows": {"unloadable": storage.get("path") or "no_such_module_xyz:flow"},
    }
    project = api.create_project("broken", exist_ok=True)
    flow_id = api.register_document(document, project_id=project["id"])["id"]
    run = api.create_flow_run(flow_id)
    assert execute_flow_run(run["id"], client=api, exit_on_cancel=False) == "Failed"
    failed = api.get_flow_run(run["id"])
    assert failed["state"] == "Failed"
    assert expected in failed["state_message"]


def test_states_of_tasks_run_in_worker_processes_reach_the_server(api: Client) -> None:
    """With a process-based executor the workers report their tasks' states themselves (see
    ``test_worker_reporting.py``); the runner settles whatever the server lacks at the end."""
    from headrace.executors import LocalDaskExecutor

    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @task
    def double(x: int) -> int:
        return 2 * x

    with Flow("in-processes") as flow:
        double.map(numbers())

    run = api.create_flow_run(_register(api, flow))
    runner = BackendFlowRunner(flow, flow_run_id=run["id"], client=api)
    state = runner.run(executor=LocalDaskExecutor(scheduler="processes", num_workers=2))
    assert state.is_successful()
    assert _task_states(api, run["id"]) == {
        ("numbers", -1): "Success",
        ("double", -1): "Mapped",
        ("double", 0): "Success",
        ("double", 1): "Success",
        ("double", 2): "Success",
    }
    assert api.get_flow_run(run["id"])["state"] == "Success"


def test_a_cancelled_run_is_not_run(api: Client, tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    @task
    def touch() -> None:
        marker.touch()

    with Flow("not-to-run") as flow:
        touch()

    run = api.create_flow_run(_register(api, flow))
    api.cancel_flow_run(run["id"])
    state = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert state.is_cancelled()
    assert not marker.exists()
    assert api.get_flow_run(run["id"])["state"] == "Cancelled"
