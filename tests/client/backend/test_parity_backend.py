"""Prefect 1 constructs through a live server: a looping task's iterations and a skipped
branch are reported and kept in the server's state history."""

from __future__ import annotations

from typing import Any

from headrace import Flow, case, context, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner
from headrace.engine.signals import LOOP
from headrace.tasks.control_flow import merge


@task
def count_to_three() -> int:
    done = context.get("task_loop_result", 0) + 1
    if done < 3:
        raise LOOP(f"counted {done}", result=done)
    return done


@task
def pick(n: int) -> str:
    return "odd" if n % 2 else "even"


@task
def odd() -> str:
    return "odd branch"


@task
def even() -> str:
    return "even branch"


def test_loop_iterations_and_skipped_branches_reach_the_server(api: Client) -> None:
    with Flow("parity-backend") as flow:
        counted = count_to_three()
        choice = pick(counted)
        with case(choice, "odd"):
            a = odd()
        with case(choice, "even"):
            b = even()
        merge(a, b)
    flow_id = api.register(flow, project_name="parity", build=False)
    run = api.create_flow_run(flow_id)
    state = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert state.is_successful()
    runs = {t["task_name"]: t for t in api.get_task_runs(run["id"])}
    assert runs["count_to_three"]["state"] == "Success"
    assert runs["odd"]["state"] == "Success"
    assert runs["even"]["state"] == "Skipped"
    history = api.request(
        "GET", f"/flow_runs/{run['id']}/states", params={"task_runs": True, "limit": 1000}
    )
    loop_run = runs["count_to_three"]["id"]
    names = [h["name"] for h in history if h.get("task_run_id") == loop_run]
    assert names.count("Looped") == 2
    assert names[-1] == "Success"
    assert api.get_flow_run(run["id"])["state"] == "Success"


@task(max_retries=1, retry_delay=0.2)
def flaky_once(marks: str) -> str:
    from pathlib import Path

    path = Path(marks)
    if not path.exists():
        path.write_text("failed once")
        raise ConnectionError("first attempt")
    return "second attempt"


def test_the_backend_runner_finishes_retries_in_one_run(api: Client, tmp_path: Any) -> None:
    from headrace import Parameter

    with Flow("parity-retry") as flow:
        out = flaky_once(Parameter("marks"))
    run = api.create_flow_run(
        api.register(flow, project_name="parity", build=False),
        parameters={"marks": str(tmp_path / "marks")},
    )
    state = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert state.is_successful()
    assert state.result[out].result == "second attempt"
    assert api.get_flow_run(run["id"])["state"] == "Success"
