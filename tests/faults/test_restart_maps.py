"""Restart and automatic retry re-run exactly what did not succeed, whatever interrupted a
mapped flow: kill -9 of the run's process (before, during, after the map), a cancel, the
agent and the run's process both killed followed by the server's automatic retry, for a
plain map, chained maps and a map over a flattened mapped upstream.

Real parts: a live server (SQLite, and PostgreSQL for the plain map), LocalAgents starting
real flow-run subprocesses (an agent process of its own where the test kills it), SIGKILL,
``headrace restart`` as a subprocess, results checkpointed to files. What ran is counted
from the tasks' side effects (files), never from what headrace reports: see
``restart_flows/squares.py`` and :mod:`tests.faults.restart_support`.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agent import backend_support
from tests.agent.backend_support import register_script, wait_for, wait_for_state
from tests.faults.restart_support import (
    FLOWS,
    SHAPES,
    Counts,
    Shape,
    acknowledged_children,
    agent_process,
    assert_settled_right,
    kill,
    run_env,
    run_process,
    stop_process,
    wait_for_children,
)
from tests.server.conftest import make_settings
from tests.support.headrace_server import LiveServer

from headrace.agent import LocalAgent
from headrace.client import Client

# fixtures of the live server, its database and the run processes' environment
agent_env = backend_support.agent_env
any_database_url = backend_support.any_database_url
api = backend_support.api
backend_server = backend_support.backend_server
postgres_server = backend_support.postgres_server
sqlite_template = backend_support.sqlite_template
sqlite_url = backend_support.sqlite_url

N = 30  # items of each flow
SLEEP = 0.1  # seconds each child of the interrupted map works
KILL_AFTER = 10  # children acknowledged before the kill


def _agent(client: Client, env: dict[str, str]) -> LocalAgent:
    return LocalAgent(labels=[], client=client, poll_interval=0.1, env=env).start()


def _restart(client: Client, run_id: str) -> None:
    """``headrace restart RUN``, as a user types it."""
    done = subprocess.run(
        [sys.executable, "-m", "headrace", "restart", run_id, "--api", str(client.api_url)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _kill_mid_map_and_restart(
    client: Client,
    base_env: dict[str, str],
    tmp_path: Path,
    shape: Shape,
    executor: str = "local",
    n: int = N,
) -> None:
    """The issue's scenario: the run's process killed once ``KILL_AFTER`` children of the
    map succeeded, then ``headrace restart``."""
    counts = Counts(tmp_path / "counts")
    env = {**run_env(base_env, counts.folder, n, SLEEP), "HEADRACE_TEST_EXECUTOR": executor}
    run = client.create_flow_run(register_script(client, FLOWS / shape.script))
    agent = _agent(client, env)
    try:
        wait_for_children(client, run["id"], shape.slug, KILL_AFTER)
        pid = run_process(run["id"])
        assert pid is not None, "the run's process is gone"
        kill(pid)
        failed = wait_for_state(client, run["id"], {"Failed"}, timeout=30)
        assert "-9" in failed["state_message"]  # the exit code of a SIGKILL
        acknowledged = acknowledged_children(client, run["id"], shape.slug)
        assert len(acknowledged) < shape.children(n), "the kill came after the map"
        _restart(client, run["id"])
        final = wait_for_state(client, run["id"], timeout=90)
    finally:
        agent.stop(stop_runs=True)
    assert_settled_right(client, final, counts, shape, n, acknowledged)
    assert final["run_count"] == 2


def test_killed_three_times_at_random_moments_each_restart_keeps_what_succeeded(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    """kill -9 at a random number of acknowledged children, three times, restarting after
    each: the restarts stack (each starts from a partial map of the one before) and every
    child acknowledged before any kill still ran only once."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    shape = SHAPES["map"]
    counts = Counts(tmp_path / "counts")
    run = api.create_flow_run(register_script(api, FLOWS / shape.script))
    agent = _agent(api, run_env(agent_env, counts.folder, N, SLEEP))
    acknowledged: set[int] = set()
    ran_before: Counter[int] = Counter()  # runs of each child when it was first acknowledged
    try:
        for kill_number in range(3):
            target = min(N - 1, len(acknowledged) + rng.randint(1, 6))
            wait_for_children(api, run["id"], shape.slug, target)
            pid = run_process(run["id"])
            assert pid is not None, f"seed {seed}: the run's process is gone"
            kill(pid)
            wait_for_state(api, run["id"], {"Failed"}, timeout=30)
            now = acknowledged_children(api, run["id"], shape.slug)
            assert now >= acknowledged, f"seed {seed}: acknowledged children were lost"
            assert len(now) < N, f"seed {seed}: kill {kill_number + 1} came after the map"
            ran = counts.per_child(shape.counted)  # the process is dead: final for now
            ran_before.update({i: ran[i] for i in now - acknowledged})
            acknowledged = now
            _restart(api, run["id"])
        final = wait_for_state(api, run["id"], timeout=90)
    finally:
        agent.stop(stop_runs=True)
    assert_settled_right(api, final, counts, shape, N, acknowledged, ran_before)
    assert final["run_count"] == 4, f"seed {seed}"


@pytest.fixture
def any_api(any_database_url: str) -> Iterator[Client]:
    """A client of a live server on each database in turn."""
    live = LiveServer(make_settings(any_database_url, heartbeat_timeout=3.0)).start()
    try:
        with Client(live.url, retries=2, backoff=0.05) as client:
            yield client
    finally:
        live.stop()


def test_kill_9_in_the_middle_of_a_map_then_restart(
    any_api: Client,
    agent_env: dict[str, str],
    tmp_path: Path,
) -> None:
    _kill_mid_map_and_restart(any_api, agent_env, tmp_path, SHAPES["map"])


def test_kill_9_of_a_run_on_a_process_pool_in_the_middle_of_a_map_then_restart(
    api: Client, agent_env: dict[str, str], tmp_path: Path
) -> None:
    """The children ran in ``LocalDaskExecutor("processes")`` workers; the restarted run
    ships the reused children's unread results to its workers for the reduce."""
    _kill_mid_map_and_restart(api, agent_env, tmp_path, SHAPES["map"], "processes")


@pytest.mark.parametrize("shape", ["chained", "nested"])
def test_kill_9_in_the_middle_of_chained_and_nested_maps_then_restart(
    api: Client,
    agent_env: dict[str, str],
    tmp_path: Path,
    shape: str,
) -> None:
    n = 12 if shape == "nested" else N  # 30 children once flattened
    _kill_mid_map_and_restart(api, agent_env, tmp_path, SHAPES[shape], n=n)


def test_kill_9_before_the_map_then_restart(
    api: Client,
    agent_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """Killed while ``items`` works: nothing of the map exists yet; the restart runs it all."""
    shape = SHAPES["map"]
    counts = Counts(tmp_path / "counts")
    env = {**run_env(agent_env, counts.folder, N, 0.01), "HEADRACE_TEST_ITEMS_SLEEP": "60"}
    run = api.create_flow_run(register_script(api, FLOWS / shape.script))
    agent = _agent(api, env)
    try:
        pid = wait_for(lambda: counts.pids("items"), 60, "items to start")[-1]
        kill(pid)
        wait_for_state(api, run["id"], {"Failed"}, timeout=30)
        assert acknowledged_children(api, run["id"], shape.slug) == set()
        agent.env["HEADRACE_TEST_ITEMS_SLEEP"] = "0"
        _restart(api, run["id"])
        final = wait_for_state(api, run["id"], timeout=90)
    finally:
        agent.stop(stop_runs=True)
    assert_settled_right(api, final, counts, shape, N, set())
    assert len(counts.lines("items")) == 2  # it never succeeded the first time


def test_kill_9_after_the_map_then_restart_runs_no_child_again(
    api: Client,
    agent_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """Killed while the reduce works: every child had succeeded, none runs again, and the
    reduce (run again) still sees all of them."""
    shape = SHAPES["map"]
    counts = Counts(tmp_path / "counts")
    env = {**run_env(agent_env, counts.folder, N, 0.01), "HEADRACE_TEST_TOTAL_SLEEP": "60"}
    run = api.create_flow_run(register_script(api, FLOWS / shape.script))
    agent = _agent(api, env)
    try:
        acknowledged = wait_for_children(api, run["id"], shape.slug, N)
        kill(counts.pids(shape.counted)[-1])
        wait_for_state(api, run["id"], {"Failed"}, timeout=30)
        assert counts.totals() == []
        agent.env["HEADRACE_TEST_TOTAL_SLEEP"] = "0"
        _restart(api, run["id"])
        final = wait_for_state(api, run["id"], timeout=90)
    finally:
        agent.stop(stop_runs=True)
    assert_settled_right(api, final, counts, shape, N, acknowledged)
    assert sum(counts.per_child(shape.counted).values()) == N  # each child exactly once


def test_cancel_in_the_middle_of_a_map_then_restart(
    api: Client,
    agent_env: dict[str, str],
    tmp_path: Path,
) -> None:
    shape = SHAPES["map"]
    counts = Counts(tmp_path / "counts")
    run = api.create_flow_run(register_script(api, FLOWS / shape.script))
    agent = _agent(api, run_env(agent_env, counts.folder, N, SLEEP))
    try:
        wait_for_children(api, run["id"], shape.slug, KILL_AFTER)
        api.cancel_flow_run(run["id"])
        wait_for_state(api, run["id"], {"Cancelled"}, timeout=60)
        acknowledged = acknowledged_children(api, run["id"], shape.slug)
        assert len(acknowledged) < N, "the cancel came after the map"
        _restart(api, run["id"])
        final = wait_for_state(api, run["id"], timeout=90)
    finally:
        agent.stop(stop_runs=True)
    assert_settled_right(api, final, counts, shape, N, acknowledged)


@pytest.fixture
def reaping_server(sqlite_url: str) -> Iterator[LiveServer]:
    """A live server whose services run (the reaper every 0.5 s, runs lost after 3 s without
    a heartbeat), as ``headrace server start`` runs them."""
    settings = make_settings(
        sqlite_url, heartbeat_timeout=3.0, services_interval=0.5, run_services=True
    )
    live = LiveServer(settings).start()
    try:
        yield live
    finally:
        live.stop()


def test_agent_and_run_killed_then_the_servers_automatic_retry_finishes_the_map(
    reaping_server: LiveServer,
    agent_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """kill -9 of the agent process and of the run's process: the server's reaper finds the
    run without heartbeats and retries it (``max_retries=1``); a new agent takes the retry,
    which runs only the children that had not succeeded."""
    shape = SHAPES["map"]
    counts = Counts(tmp_path / "counts")
    env = run_env(agent_env, counts.folder, N, SLEEP)
    with Client(reaping_server.url, retries=2, backoff=0.05) as client:
        flow_id = register_script(client, FLOWS / shape.script)
        run = client.create_flow_run(flow_id, max_retries=1)
        first = agent_process(reaping_server.url, env, tmp_path / "agent.log")
        second: LocalAgent | None = None
        try:
            wait_for_children(client, run["id"], shape.slug, KILL_AFTER)
            kill(first.pid)
            first.wait(15)
            kill(counts.pids(shape.counted)[-1])
            retried: dict[str, Any] = wait_for(
                lambda: (
                    (r := client.get_flow_run(run["id"]))["run_count"] == 1
                    and r["state"] == "Scheduled"
                    and r
                ),
                60,
                "the reaper to schedule the retry",
            )
            assert "retry 1 of 1" in retried["state_message"]
            acknowledged = acknowledged_children(client, run["id"], shape.slug)
            assert len(acknowledged) < N, "the kill came after the map"
            second = _agent(client, env)
            final = wait_for_state(client, run["id"], timeout=90)
        finally:
            stop_process(first)
            if second is not None:
                second.stop(stop_runs=True)
        assert_settled_right(client, final, counts, shape, N, acknowledged)
        assert final["run_count"] == 2
