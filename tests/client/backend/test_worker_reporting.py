"""States and log records of tasks that run in worker processes reach a live server while
the run goes on (each worker reports through its own reporter), and the runner does not
report them again at the end: a real ``LocalDaskExecutor("processes")`` and a real
``DaskExecutor`` on a temporary ``LocalCluster`` on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import dask
import pytest
from tests.agent.backend_support import wait_for
from tests.server.conftest import make_settings
from tests.support.headrace_server import LiveServer

from headrace import Flow, context, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner
from headrace.executors import DaskExecutor, LocalDaskExecutor
from headrace.server.domain.auth import create_api_key

CHILDREN = 5
GATED = CHILDREN - 1  # this child waits until the test saw the others on the server
SECRET = "hunter2-w0rker-s3cr3t"  # a [context.secrets] value in the workers' environment


def _executor(kind: str) -> Any:
    if kind == "processes":
        return LocalDaskExecutor("processes", num_workers=2)
    return DaskExecutor(
        cluster_kwargs={
            "n_workers": 2,
            "threads_per_worker": 1,
            "processes": True,
            "host": "127.0.0.1",
            "dashboard_address": None,
            "silence_logs": logging.ERROR,
        }
    )


def _gated_flow(gate: Path) -> Flow:
    @task
    def numbers() -> list[int]:
        return list(range(CHILDREN))

    @task(log_stdout=True)
    def work(x: int) -> int:
        context.logger.info("worker logs child %s token %s", x, SECRET)
        print(f"worker prints child {x}")
        if x == GATED:
            deadline = time.monotonic() + 120
            while not gate.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(0.1)
        return x * 10

    with Flow(f"worker-reporting-{gate.parent.name}") as flow:
        work.map(numbers())
    return flow


@pytest.mark.dask
@pytest.mark.parametrize("kind", ["processes", "dask"])
def test_worker_states_and_logs_reach_the_server_while_the_run_goes_on(
    api: Client, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADRACE__LOGGING__LEVEL", "INFO")  # workers log prints at INFO
    monkeypatch.setenv("HEADRACE__CONTEXT__SECRETS__TOKEN", SECRET)
    gate = tmp_path / "open"
    flow = _gated_flow(gate)
    run = api.create_flow_run(api.register(flow, project_name="backend", build=False))
    runner = BackendFlowRunner(flow, flow_run_id=run["id"], client=api)
    result: dict[str, Any] = {}

    def run_it() -> None:
        # one task per dispatch to the process pool, so the gated child holds one worker
        # and the other runs its siblings (dask's default sends six at a time)
        with dask.config.set({"chunksize": 1}):
            result["state"] = runner.run(executor=_executor(kind))

    thread = threading.Thread(target=run_it)
    thread.start()
    try:

        def finished_children() -> set[int]:
            return {
                t["map_index"]
                for t in api.get_task_runs(run["id"])
                if t["task_name"] == "work" and t["map_index"] >= 0 and t["state"] == "Success"
            }

        def child_lines() -> set[str]:
            return {
                log["message"]
                for log in api.get_logs(run["id"])
                if log["message"].startswith("worker ") and log["map_index"] != GATED
            }

        others = set(range(CHILDREN)) - {GATED}
        wait_for(lambda: finished_children() == others, 90, "the ungated children's states")
        wanted = {f"worker prints child {i}" for i in others}
        wanted |= {f"worker logs child {i} token ********" for i in others}
        wait_for(lambda: child_lines() >= wanted, 30, "the ungated children's log lines")
        assert thread.is_alive() and GATED not in finished_children()
    finally:
        gate.touch()
        thread.join(120)
    state = result["state"]
    assert state.is_successful(), state
    states = {(t["task_name"], t["map_index"]): t["state"] for t in api.get_task_runs(run["id"])}
    assert states == {
        ("numbers", -1): "Success",
        ("work", -1): "Mapped",
        **{("work", i): "Success" for i in range(CHILDREN)},
    }
    assert api.get_flow_run(run["id"])["state"] == "Success"
    logs = [log for log in api.get_logs(run["id"]) if log["message"].startswith("worker ")]
    assert sorted(log["map_index"] for log in logs) == sorted(2 * list(range(CHILDREN)))
    assert all(log["task_run_id"] for log in logs)
    assert not [log for log in logs if SECRET in log["message"]], "secrets are masked"
    history = api.get_flow_run_states(run["id"], task_runs=True)
    per_run: dict[str, list[str]] = {}
    for change in history:
        if change["task_run_id"]:
            per_run.setdefault(change["task_run_id"], []).append(change["name"])
    assert sorted(per_run.values()) == sorted(
        [["Running", "Success"]] * (CHILDREN + 1) + [["Mapped"]]
    )
    reporter = runner.reporter
    assert reporter is not None
    # the runner itself only reported the mapped parent: the workers reported the rest
    assert reporter.task_states_sent == 1
    assert reporter.dropped_batches == 0


@pytest.fixture
def secured(sqlite_url: str) -> Iterator[tuple[LiveServer, str]]:
    """A live server that requires an API key, and its first key."""
    live = LiveServer(make_settings(sqlite_url, require_api_key=True)).start()
    try:
        with live.db.session() as session:
            _row, key = create_api_key(session, "runner")
        yield live, key
    finally:
        live.stop()


@pytest.mark.parametrize("worker_has_key", [True, False])
def test_workers_read_the_key_from_their_own_config_and_the_runner_settles_the_rest(
    secured: tuple[LiveServer, str], worker_has_key: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key never travels with the pickled listener: a worker without it in its own
    config reports with the run's per-run token (a refused worker, its token expired, is
    covered in test_worker_tokens.py: the runner then settles the rest and says so)."""
    live, key = secured
    if worker_has_key:
        monkeypatch.setenv("HEADRACE__API__KEY", key)
    else:
        monkeypatch.delenv("HEADRACE__API__KEY", raising=False)

    @task
    def triple(x: int) -> int:
        return 3 * x

    with Flow("keyed-workers") as flow:
        triple.map([1, 2, 3])

    with Client(live.url, api_key=key, retries=2, backoff=0.05) as api:
        run = api.create_flow_run(api.register(flow, project_name="keyed", build=False))
        runner = BackendFlowRunner(flow, flow_run_id=run["id"], client=api)
        state = runner.run(executor=LocalDaskExecutor("processes", num_workers=2))
        assert state.is_successful(), state
        shipped = cloudpickle.dumps(
            runner.task_runner(
                next(t for t in flow.slugs if t.name == "triple"), runner.run_settings(None)
            )
        )
        assert key.encode() not in shipped
        states = {
            (t["task_name"], t["map_index"]): t["state"] for t in api.get_task_runs(run["id"])
        }
        assert states == {
            ("Constant[list]", -1): "Success",
            ("triple", -1): "Mapped",
            **{("triple", i): "Success" for i in range(3)},
        }
        assert api.get_flow_run(run["id"])["state"] == "Success"
        history = api.get_flow_run_states(run["id"], task_runs=True)
    assert sum(1 for s in history if s["task_run_id"] and s["name"] == "Success") == 4
    reporter = runner.reporter
    assert reporter is not None
    # the Mapped parent; workers sent the children, with their key or the run's token
    assert reporter.task_states_sent == 1


def test_a_long_lived_worker_stops_the_reporters_of_idle_runs(api: Client) -> None:
    """What a dask worker that outlives many flow runs does, in this process: the reporter
    of a run idle for ``IDLE_CLOSE`` seconds is stopped (after sending what it holds) when
    another run starts reporting here."""
    from headrace.client.backend import worker
    from headrace.engine.state import Pending, Running, Success
    from headrace.runcontext import reset_context, set_context

    @task
    def step() -> None:
        pass

    with Flow("idle-runs") as flow:
        step()
    [(step, slug)] = flow.slugs.items()  # the flow's copy of the task
    flow_id = api.register(flow, project_name="backend", build=False)
    first, second = (api.create_flow_run(flow_id)["id"] for _ in range(2))
    token = set_context({"task_slug": slug})  # as the task runner sets it
    try:
        one = worker.worker_listener(api.api_url, first, ())
        one(step, None, Pending(), Running())
        one(step, None, Running(), Success())
        reporter = worker._REPORTERS[first]
        worker._ACTIVE[first] -= worker.IDLE_CLOSE + 1  # as if it were idle that long
        worker.worker_listener(api.api_url, second, ())(step, None, Pending(), Running())
        assert first not in worker._REPORTERS and second in worker._REPORTERS
        wait_for(
            lambda: not reporter._sender.is_alive() and not reporter._poster.is_alive(),
            30,
            "the idle reporter to stop",
        )
        assert reporter.task_states_sent == 2 and reporter.dropped_batches == 0
        assert [t["state"] for t in api.get_task_runs(first)] == ["Success"]
    finally:
        reset_context(token)
        worker.close_worker_reporters()
    assert [t["state"] for t in api.get_task_runs(second)] == ["Running"]
    assert not worker._REPORTERS
