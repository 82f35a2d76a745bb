"""Every kind of runner death goes through one retry policy, and a server restart is not a
runner death.

- ``POST /flow_runs/{id}/lost`` (what an agent calls when a run's process exits, is killed
  or OOM-killed) reschedules the run while ``max_retries`` allows, else fails it; the
  history says which attempt died and why.
- A claimed run whose agent stops heartbeating it is rescheduled or failed within
  ``heartbeat_timeout`` (not ``submitted_timeout``); an agent that lists it keeps it.
- The reaper fails nothing for missing heartbeats within ``heartbeat_timeout`` of the
  server's start, or of a gap in its service loop.

Real parts: a live server over HTTP on SQLite and PostgreSQL; the reaper and the service
loop called directly with chosen clock values where the test needs a moment in the future.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.server.conftest import make_settings

from headrace.client import Client
from headrace.server.db.models import utcnow
from headrace.server.services import ServiceLoop, reap_zombies


def _claimed(client: Client, flow_id: str, max_retries: int = 0) -> tuple[str, str]:
    run_id = client.create_flow_run(flow_id, max_retries=max_retries)["id"]
    agent = client.register_agent("a")
    assert [r["id"] for r in client.claim_flow_runs(agent["id"])] == [run_id]
    return run_id, agent["id"]


def _history(client: Client, run_id: str) -> list[tuple[str, str | None]]:
    return [(s["name"], s["message"]) for s in client.get_flow_run_states(run_id)]


def test_a_lost_run_is_retried_then_failed_saying_which_attempt_died(
    client: Client, flow_id: str
) -> None:
    run_id, _ = _claimed(client, flow_id, max_retries=1)
    client.set_flow_run_state(run_id, "Running")
    extract = client.get_task_runs(run_id, task_slug="extract-1")[0]
    client.set_task_run_state(extract["id"], "Running", version=0)
    client.set_task_run_state(extract["id"], "Success", version=1)
    transform = client.get_task_runs(run_id, task_slug="transform-1")[0]
    client.set_task_run_state(transform["id"], "Running", version=0)

    run = client.flow_run_lost(run_id, "the process was killed by SIGKILL (exit code -9)")
    assert run["state"] == "Scheduled" and run["agent_id"] is None
    assert run["state_message"] == (
        "attempt 1 died: the process was killed by SIGKILL (exit code -9); retry 1 of 1"
    )
    tasks = {t["task_slug"]: t["state"] for t in client.get_task_runs(run_id)}
    assert tasks == {"extract-1": "Success", "transform-1": "Pending", "load-1": "Pending"}

    client.claim_flow_runs(client.register_agent("b")["id"])
    client.set_flow_run_state(run_id, "Running")
    run = client.flow_run_lost(run_id, "exited with code 1")
    assert run["state"] == "Failed" and run["run_count"] == 2
    assert run["state_message"] == "attempt 2 died: exited with code 1; no retries left (1 allowed)"
    assert [name for name, _ in _history(client, run_id)] == [
        "Scheduled",
        "Submitted",
        "Running",
        "Scheduled",
        "Submitted",
        "Running",
        "Failed",
    ]
    # a finished run has no runner to lose: nothing changes
    assert client.flow_run_lost(run_id, "late news")["state"] == "Failed"
    assert len(_history(client, run_id)) == 7


def test_a_lost_run_without_retries_fails_and_cancelling_one_ends_cancelled(
    client: Client, flow_id: str
) -> None:
    run_id, _ = _claimed(client, flow_id)
    client.set_flow_run_state(run_id, "Running")
    run = client.flow_run_lost(run_id, "exited with code 3")
    assert run["state"] == "Failed"
    assert run["state_message"] == "attempt 1 died: exited with code 3; no retries allowed"
    other, _ = _claimed(client, flow_id, max_retries=5)
    client.set_flow_run_state(other, "Running")
    client.cancel_flow_run(other)
    assert client.flow_run_lost(other, "exited with code 143")["state"] == "Cancelled"


def test_a_claimed_run_whose_agent_stops_heartbeating_is_rescheduled_within_the_timeout(
    client: Client, server, flow_id: str
) -> None:
    settings = server.settings
    run_id, agent_id = _claimed(client, flow_id, max_retries=1)
    client.agent_heartbeat(agent_id, [run_id])
    soon = utcnow() + timedelta(seconds=settings.heartbeat_timeout / 2)
    assert reap_zombies(server.db, settings, soon) == 0
    late = utcnow() + timedelta(seconds=settings.heartbeat_timeout + 1)
    assert late < utcnow() + timedelta(seconds=settings.submitted_timeout)
    assert reap_zombies(server.db, settings, late) == 1
    run = client.get_flow_run(run_id)
    assert run["state"] == "Scheduled" and run["run_count"] == 1
    assert run["state_message"].startswith("attempt 1 died: claimed but not started, and its agent")
    assert "retry 1 of 1" in run["state_message"]
    # a claim lost again and again is not retried forever: each claim is an attempt
    other, agent_id = _claimed(client, flow_id, max_retries=1)
    lost = client.flow_run_lost(other, "its agent was stopped before starting it")
    assert lost["state"] == "Scheduled" and lost["run_count"] == 1
    assert [r["id"] for r in client.claim_flow_runs(agent_id)] == [other]
    later = utcnow() + timedelta(seconds=settings.heartbeat_timeout + 1)
    assert reap_zombies(server.db, settings, later) == 1
    run = client.get_flow_run(other)
    assert run["state"] == "Failed" and run["state_message"].startswith("attempt 2 died: claimed")
    assert "no retries left (1 allowed)" in run["state_message"]


def test_an_agent_that_heartbeats_its_run_keeps_it_only_the_runs_it_lists(
    client: Client, server, flow_id: str
) -> None:
    settings = server.settings
    held, agent_id = _claimed(client, flow_id)
    forgotten = client.create_flow_run(flow_id)["id"]
    assert [r["id"] for r in client.claim_flow_runs(agent_id)] == [forgotten]
    # the heartbeat lands after the timeout would have passed for the claim alone
    time.sleep(1.0)
    beat_at = utcnow()
    client.agent_heartbeat(agent_id, [held])
    when = beat_at + timedelta(seconds=settings.heartbeat_timeout - 0.5)
    assert reap_zombies(server.db, settings, when) == 1
    assert client.get_flow_run(held)["state"] == "Submitted"
    assert client.get_flow_run(forgotten)["state"] == "Failed"
    # claimed longer than submitted_timeout ago: failed although its agent holds it
    client.agent_heartbeat(agent_id, [held])
    never = utcnow() + timedelta(seconds=settings.submitted_timeout + 1)
    client.agent_heartbeat(agent_id)  # no list: every Submitted run of the agent counts
    assert reap_zombies(server.db, settings, never) == 1
    run = client.get_flow_run(held)
    assert run["state"] == "Failed" and "not started within" in run["state_message"]


def test_the_reaper_waits_a_heartbeat_timeout_after_the_server_starts(
    client: Client, server, flow_id: str
) -> None:
    settings = server.settings
    run_id, _ = _claimed(client, flow_id)
    client.set_flow_run_state(run_id, "Running")
    late = utcnow() + timedelta(seconds=settings.heartbeat_timeout + 1)
    # the server (re)started just before: the runner may not have been able to heartbeat
    started = late - timedelta(seconds=settings.heartbeat_timeout - 1)
    assert reap_zombies(server.db, settings, late, alive_since=started) == 0
    assert client.get_flow_run(run_id)["state"] == "Running"
    started = late - timedelta(seconds=settings.heartbeat_timeout + 0.5)
    assert reap_zombies(server.db, settings, late, alive_since=started) == 1
    assert client.get_flow_run(run_id)["state"] == "Failed"


def test_the_service_loop_restarts_the_grace_period_after_a_gap(server) -> None:
    settings = make_settings(server.settings.database_url, services_interval=0.05)
    loop = ServiceLoop(server.db, settings)
    born = loop.alive_since
    assert born <= datetime.now(UTC)
    loop.run_once()
    loop.run_once()
    assert loop.alive_since == born  # rounds on time: the same grace period
    time.sleep(2 * settings.services_interval + 1.3)  # a stopped process, a stalled loop
    before = utcnow()
    loop.run_once()
    assert loop.alive_since >= before
