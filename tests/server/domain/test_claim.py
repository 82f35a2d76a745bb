"""Agents claim due runs atomically: labels must all be among the agent's, flow-label
concurrency limits hold, and two concurrent claimers never get one run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from tests.server.conftest import finish_task_runs

from headrace.client import Client


def _run(client: Client, flow_id: str, labels=(), delay: float = -1.0) -> str:
    start = datetime.now(UTC) + timedelta(seconds=delay)
    return client.create_flow_run(flow_id, labels=list(labels), scheduled_start=start)["id"]


def test_labels_decide_who_may_claim(client: Client, flow_id: str) -> None:
    plain = _run(client, flow_id)
    docker = _run(client, flow_id, ["docker"])
    both = _run(client, flow_id, ["docker", "gpu"])
    future = _run(client, flow_id, delay=3600)
    nolabel = client.register_agent("bare")
    dock = client.register_agent("dock", labels=["docker"])
    big = client.register_agent("big", labels=["docker", "gpu", "x"])
    assert [r["id"] for r in client.claim_flow_runs(nolabel["id"], limit=10)] == [plain]
    assert [r["id"] for r in client.claim_flow_runs(dock["id"], limit=10)] == [docker]
    claimed = client.claim_flow_runs(big["id"], limit=10)
    assert [r["id"] for r in claimed] == [both]
    assert claimed[0]["state"] == "Submitted" and claimed[0]["agent_id"] == big["id"]
    assert client.get_flow_run(future)["state"] == "Scheduled"
    assert client.claim_flow_runs(big["id"], limit=10) == []


def test_flow_label_concurrency_limit_is_respected(client: Client, flow_id: str) -> None:
    client.set_concurrency_limit("flow_label", "gpu", 2)
    runs = [_run(client, flow_id, ["gpu"]) for _ in range(4)]
    agent = client.register_agent("g", labels=["gpu"])
    first = client.claim_flow_runs(agent["id"], limit=10)
    assert [r["id"] for r in first] == runs[:2]
    assert client.claim_flow_runs(agent["id"], limit=10) == []
    client.set_flow_run_state(runs[0], "Running")
    finish_task_runs(client, runs[0])
    client.set_flow_run_state(runs[0], "Success")
    assert [r["id"] for r in client.claim_flow_runs(agent["id"], limit=10)] == [runs[2]]


def test_two_concurrent_claimers_never_share_a_run(client: Client, server, flow_id: str) -> None:
    total = 120
    runs = {_run(client, flow_id, ["x"]) for _ in range(total)}
    agents = [client.register_agent(f"agent-{i}", labels=["x"])["id"] for i in range(2)]
    got: dict[str, list[str]] = {a: [] for a in agents}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def claimer(agent_id: str) -> None:
        # Both claimers ask in lockstep while both are active, so every round is a real
        # race for the same rows (and each is sure to take some); the first to find
        # nothing left breaks the barrier and the other drains alone.
        try:
            with Client(server.url, retries=0) as own:
                while True:
                    if not barrier.broken:
                        try:
                            barrier.wait(timeout=60)
                        except threading.BrokenBarrierError:
                            pass
                    batch = own.claim_flow_runs(agent_id, limit=3)
                    if not batch:
                        barrier.abort()
                        return
                    got[agent_id].extend(r["id"] for r in batch)
        except BaseException as exc:  # surfaced below
            barrier.abort()
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    a, b = (got[x] for x in agents)
    assert set(a).isdisjoint(b)
    assert len(a) + len(b) == total and set(a) | set(b) == runs
    assert a and b, "both claimers should have taken some runs"
    submitted = client.get_flow_runs(state=["Submitted"], limit=1000)
    assert len(submitted) == total
    owners = {r["id"]: r["agent_id"] for r in submitted}
    assert all(owners[r] == agents[0] for r in a) and all(owners[r] == agents[1] for r in b)
    for run_id in list(runs)[:5]:
        names = [s["name"] for s in client.get_flow_run_states(run_id)]
        assert names == ["Scheduled", "Submitted"]
