"""Long-polled claims (``wait``): a claim waiting on the server gets a run created, restarted
or rescheduled meanwhile; it gives up with nothing when none comes; ``wait`` is checked.

Real parts: a live server (SQLite, and PostgreSQL where available) on 127.0.0.1, real HTTP
claims from threads; the test sees that a claim is waiting through the server's own
:class:`~headrace.server.domain.claim_wait.ClaimWaiters` before it creates the run.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.server.conftest import finish_task_runs

from headrace.client import Client
from headrace.client.errors import ValidationError
from headrace.server.domain.claim_wait import MAX_CLAIM_WAIT, waiters_for


def _claim_in_thread(url: str, agent_id: str, wait: float) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []

    def claim() -> None:
        with Client(url, timeout=wait + 30) as own:
            try:
                got.append(own.claim_flow_runs(agent_id, limit=5, wait=wait))
            except BaseException as exc:
                got.append(exc)

    thread = threading.Thread(target=claim, daemon=True)
    thread.start()
    return thread, got


def _wait_until_waiting(server: Any, thread: threading.Thread) -> None:
    waiters = waiters_for(server.db.engine)
    while waiters.waiting == 0:
        assert thread.is_alive(), "the claim returned instead of waiting"
        time.sleep(0.01)


def test_a_waiting_claim_gets_a_run_created_meanwhile(
    client: Client, server: Any, flow_id: str
) -> None:
    agent = client.register_agent("waiter")
    assert client.claim_flow_runs(agent["id"], limit=5) == []
    thread, got = _claim_in_thread(server.url, agent["id"], wait=MAX_CLAIM_WAIT)
    _wait_until_waiting(server, thread)
    run = client.create_flow_run(flow_id)
    thread.join(MAX_CLAIM_WAIT + 30)
    assert not thread.is_alive()
    (claimed,) = got
    assert [r["id"] for r in claimed] == [run["id"]]
    assert claimed[0]["state"] == "Submitted" and claimed[0]["agent_id"] == agent["id"]


def test_a_waiting_claim_gets_a_restarted_run(client: Client, server: Any, flow_id: str) -> None:
    agent = client.register_agent("waiter")
    run = client.create_flow_run(flow_id)
    (first,) = client.claim_flow_runs(agent["id"], limit=5)
    client.set_flow_run_state(first["id"], "Running")
    finish_task_runs(client, first["id"], "Failed")
    client.set_flow_run_state(first["id"], "Failed", message="boom")
    thread, got = _claim_in_thread(server.url, agent["id"], wait=MAX_CLAIM_WAIT)
    _wait_until_waiting(server, thread)
    client.restart_flow_run(run["id"])
    thread.join(MAX_CLAIM_WAIT + 30)
    (claimed,) = got
    assert [r["id"] for r in claimed] == [run["id"]]


def test_a_claim_waits_for_a_run_due_soon_and_not_for_other_agents_runs(
    client: Client, server: Any, flow_id: str
) -> None:
    agent = client.register_agent("plain")
    labelled = client.create_flow_run(flow_id, labels=["gpu"])
    soon = client.create_flow_run(
        flow_id, scheduled_start=datetime.now(UTC) + timedelta(seconds=0.5)
    )
    with Client(server.url, timeout=60) as own:
        claimed = own.claim_flow_runs(agent["id"], limit=5, wait=MAX_CLAIM_WAIT)
    assert [r["id"] for r in claimed] == [soon["id"]]
    assert client.get_flow_run(labelled["id"])["state"] == "Scheduled"


def test_a_claim_with_nothing_to_take_ends_empty(client: Client, flow_id: str) -> None:
    agent = client.register_agent("idle")
    assert client.claim_flow_runs(agent["id"], limit=5, wait=0.2) == []


@pytest.mark.parametrize("wait", [-1, 8.5, True, "soon", None, float("inf")])
def test_wait_is_checked(client: Client, server: Any, wait: Any) -> None:
    agent = client.register_agent("bad")
    if wait == float("inf"):  # JSON has no infinity: sent as text, refused all the same
        response = httpx.post(
            f"{server.url}/api/agents/{agent['id']}/claim",
            content=b'{"limit": 1, "wait": 1e999}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 422
        return
    with pytest.raises(ValidationError, match="wait"):
        client.request("POST", f"/agents/{agent['id']}/claim", json={"limit": 1, "wait": wait})
