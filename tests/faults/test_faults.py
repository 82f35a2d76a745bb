"""Faults at chosen moments, each against a real system of processes (server, agents, flow
run processes; SQLite, and PostgreSQL where marked), and the promises a user relies on:
the run ends ``Success`` with ``total`` equal to the plain-Python answer, every child ran,
no child whose ``Success`` the server acknowledged ran twice or lost its state, nothing
stays non-final (:meth:`FaultCluster.problems`).

Moments: ``before`` the map (``items`` running), ``during`` it (a third of the children
acknowledged), ``after`` it (``total`` running). A restarted run re-expands a half-finished
map: the ``during`` and ``after`` cases prove it.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections import Counter

import pytest
from tests.faults.harness import FaultCluster, Snapshot

N = 10


def _reach(cluster: FaultCluster, run_id: str, moment: str) -> Snapshot:
    """Wait until ``run_id`` is at ``moment``; returns what the server acknowledged then."""
    if moment == "before":
        cluster.wait(lambda: cluster.events(run_id).items, 60, "items to start")
    elif moment == "during":
        cluster.wait(
            lambda: cluster.children_acknowledged(run_id) >= N // 3, 60, "a third of the map"
        )
    else:
        cluster.wait(lambda: cluster.events(run_id).summing, 60, "total to start")
    return cluster.snapshot(run_id)


def _check(cluster: FaultCluster, run_id: str, snaps: list[Snapshot], timeout: float = 90) -> None:
    final = cluster.wait_final(run_id, timeout)
    problems = cluster.problems(run_id, N, snaps, final)
    assert not problems, f"{problems}\nserver log:\n{cluster.log('server.log')[-3000:]}"
    assert not cluster.stuck_runs()


MOMENTS = ["before", "during", "after"]


@pytest.mark.parametrize("moment", MOMENTS)
def test_run_process_killed_is_retried(cluster: FaultCluster, moment: str) -> None:
    """kill -9 of the run's process, its agent alive: the agent reports it lost, the
    server retries it (max_retries=1) and the history says which attempt died."""
    cluster.start_agent("a")
    run_id = cluster.create_run(N, max_retries=1)
    snap = _reach(cluster, run_id, moment)
    assert cluster.signal_run(run_id, signal.SIGKILL) == 1
    _check(cluster, run_id, [snap])
    messages = [s["message"] or "" for s in cluster.client.get_flow_run_states(run_id)]
    assert any(
        m.startswith("attempt 1 died: the flow run's process was killed by SIGKILL")
        for m in messages
    )


@pytest.mark.parametrize("moment", ["before", "during"])
def test_run_process_terminated_then_restarted(cluster: FaultCluster, moment: str) -> None:
    """SIGTERM: the run stops gracefully and ends Failed; ``restart`` finishes it."""
    cluster.start_agent("a")
    run_id = cluster.create_run(N)
    snap = _reach(cluster, run_id, moment)
    cluster.signal_run(run_id, signal.SIGTERM)
    assert cluster.wait_final(run_id)["state"] == "Failed"
    cluster.client.restart_flow_run(run_id)
    _check(cluster, run_id, [snap])


@pytest.mark.parametrize("moment", ["before", "during"])
def test_cancel_then_restart(cluster: FaultCluster, moment: str) -> None:
    cluster.start_agent("a")
    run_id = cluster.create_run(N)
    snap = _reach(cluster, run_id, moment)
    cluster.client.cancel_flow_run(run_id)
    assert cluster.wait_final(run_id)["state"] == "Cancelled"
    cluster.client.restart_flow_run(run_id)
    _check(cluster, run_id, [snap])


def test_agent_killed_the_run_goes_on(cluster: FaultCluster) -> None:
    """kill -9 of the agent only: its run's process lives on, heartbeats and finishes."""
    cluster.start_agent("a")
    run_id = cluster.create_run(N)
    snap = _reach(cluster, run_id, "during")
    cluster.signal_agent("a", signal.SIGKILL)
    _check(cluster, run_id, [snap])


@pytest.mark.parametrize("moment", ["before", "during"])
def test_two_agents_one_killed_with_its_run(cluster: FaultCluster, moment: str) -> None:
    """Two agents; the one running the run is killed with the run's process: the server's
    reaper notices the missing heartbeats and retries it, the other agent finishes it."""
    first = cluster.start_agent("a")
    run_id = cluster.create_run(N, max_retries=1)
    snap = _reach(cluster, run_id, moment)
    cluster.start_agent("b")
    (proc,) = cluster.run_processes(run_id)
    # started by agent a: its child, or its template's child when the run was forked warm
    parent = proc.parent()
    assert first.pid in (proc.ppid(), parent.ppid() if parent is not None else None)
    cluster.signal_agent("a", signal.SIGKILL)
    cluster.signal_run(run_id, signal.SIGKILL)
    _check(cluster, run_id, [snap])
    messages = [s["message"] or "" for s in cluster.client.get_flow_run_states(run_id)]
    # "no heartbeat" (it ran), or "claimed but not started ... agent lost" when it died
    # before its Running reached the server: either way attempt 1, retried
    died = [m for m in messages if m.startswith("attempt 1 died: ") and "retry 1 of 1" in m]
    assert died and ("no heartbeat" in died[0] or "agent lost" in died[0]), messages


def test_claimed_run_of_a_lost_agent_is_rescheduled_quickly(cluster: FaultCluster) -> None:
    """An agent claims the run and dies before starting it (here: an agent that never
    heartbeats its claim): the run is rescheduled within heartbeat_timeout (3 s), far
    below submitted_timeout (120 s, longer than this test waits), and another agent runs it."""
    run_id = cluster.create_run(N, max_retries=1)
    # on this host, as the flow's Local storage labels it
    ghost = cluster.client.register_agent("ghost", labels=[socket.gethostname()])
    assert [r["id"] for r in cluster.client.claim_flow_runs(ghost["id"])] == [run_id]
    cluster.start_agent("b")
    _check(cluster, run_id, [], timeout=60)
    messages = [s["message"] or "" for s in cluster.client.get_flow_run_states(run_id)]
    assert any(
        m.startswith("attempt 1 died: claimed but not started, and its agent stopped")
        for m in messages
    )


@pytest.mark.parametrize("outage", ["short", "long"])
def test_server_killed_and_back(any_cluster: FaultCluster, outage: str) -> None:
    """kill -9 of the server during the map, back after 0.5 s or after longer than
    heartbeat_timeout: the run goes on and succeeds, nothing is failed meanwhile (the
    reaper gives runners a heartbeat_timeout after the server's start)."""
    cluster = any_cluster
    cluster.start_agent("a")
    run_id = cluster.create_run(N)
    snap = _reach(cluster, run_id, "during")
    cluster.signal_server(signal.SIGKILL)
    time.sleep(0.5 if outage == "short" else cluster.heartbeat_timeout + 2)
    cluster.start_server()
    _check(cluster, run_id, [snap])
    _assert_nothing_failed(cluster, run_id)


def test_server_stopped_longer_than_the_heartbeat_timeout(cluster: FaultCluster) -> None:
    """SIGSTOP of the server for longer than heartbeat_timeout, then SIGCONT: a gap in its
    own service loop, so the reaper waits before judging heartbeats."""
    cluster.start_agent("a")
    run_id = cluster.create_run(N)
    snap = _reach(cluster, run_id, "during")
    cluster.signal_server(signal.SIGSTOP)
    time.sleep(cluster.heartbeat_timeout + 2)
    cluster.signal_server(signal.SIGCONT)
    _check(cluster, run_id, [snap])
    _assert_nothing_failed(cluster, run_id)


def _assert_nothing_failed(cluster: FaultCluster, run_id: str) -> None:
    history = cluster.client.get_flow_run_states(run_id, task_runs=True)
    failed = [(s["name"], s["message"]) for s in history if s["name"] == "Failed"]
    assert failed == []


@pytest.mark.dask
def test_dask_worker_killed_during_the_map(cluster: FaultCluster) -> None:
    """kill -9 of the dask worker running a child (DaskExecutor, two worker processes,
    chunk_size=1): the run succeeds and no child whose Success the server acknowledged
    runs again when its chunk is re-run elsewhere."""
    cluster.env["HEADRACE_FAULT_EXECUTOR"] = "dask"
    cluster.start_agent("a")
    run_id = cluster.create_run(N)
    snap = _reach(cluster, run_id, "during")
    (runner,) = cluster.run_processes(run_id)
    workers = {p.pid for p in runner.children(recursive=True)}
    acknowledged = {i for (name, i) in snap.succeeded if name == "square" and i >= 0}
    held = Counter(
        pid for i, pid in cluster.child_pids(run_id) if pid in workers and i in acknowledged
    )
    assert held, "the children ran in dask worker processes"
    # the worker that finished the most acknowledged children: their results live there
    os.kill(held.most_common(1)[0][0], signal.SIGKILL)
    _check(cluster, run_id, [snap], timeout=120)
