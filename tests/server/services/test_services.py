"""The in-process services, stepped directly: scheduler, zombie reaper, late-run watcher."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from tests.server.conftest import flow_document, make_settings

from headrace.client import Client
from headrace.schedules import IntervalSchedule
from headrace.server.db.models import FlowRun
from headrace.server.services import (
    ServiceLoop,
    mark_late_runs,
    prune_report_batches,
    reap_zombies,
    schedule_flow_runs,
)

EPOCH = datetime(2030, 1, 1, tzinfo=UTC)
EVERY_10_MIN = IntervalSchedule(start_date=EPOCH, interval=timedelta(minutes=10)).serialize()


def _scheduled_flow(client: Client, project: dict, **kw) -> dict:
    return client.register_document(
        flow_document(name=kw.pop("name", "tick"), schedule=EVERY_10_MIN, **kw),
        project_id=project["id"],
    )


def test_scheduler_creates_runs_up_to_the_horizon_once(client, server, project) -> None:
    flow = _scheduled_flow(client, project)
    settings = make_settings(
        server.settings.database_url, schedule_horizon=3600.0, schedule_max_runs=10
    )
    now = EPOCH + timedelta(seconds=1)
    assert schedule_flow_runs(server.db, settings, now) == 6
    assert schedule_flow_runs(server.db, settings, now) == 0
    runs = client.get_flow_runs(flow_id=flow["id"], order="oldest")
    starts = [datetime.fromisoformat(r["scheduled_start"]) for r in runs]
    assert starts == [EPOCH + timedelta(minutes=10 * i) for i in range(1, 7)]
    assert all(r["auto_scheduled"] and r["state"] == "Scheduled" for r in runs)
    assert len(client.get_task_runs(runs[0]["id"])) == 3
    later = now + timedelta(minutes=15)
    assert schedule_flow_runs(server.db, settings, later) == 1
    capped = make_settings(
        server.settings.database_url, schedule_horizon=86400.0, schedule_max_runs=3
    )
    assert schedule_flow_runs(server.db, capped, later) == 0


def test_concurrent_scheduler_steps_make_one_run_per_time(client, server, project) -> None:
    flows = [_scheduled_flow(client, project, name=f"tick{i}") for i in range(3)]
    settings = make_settings(
        server.settings.database_url, schedule_horizon=7200.0, schedule_max_runs=20
    )
    now = EPOCH + timedelta(seconds=1)
    barrier = threading.Barrier(3)
    made: list[int] = []

    def step() -> None:
        barrier.wait()
        made.append(schedule_flow_runs(server.db, settings, now))

    threads = [threading.Thread(target=step) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(made) == 3 * 12
    for flow in flows:
        runs = client.get_flow_runs(flow_id=flow["id"], limit=1000)
        starts = [r["scheduled_start"] for r in runs]
        assert len(starts) == len(set(starts)) == 12


def test_schedule_off_deletes_the_runs_it_made_that_no_agent_took(client, server, project) -> None:
    """As in Prefect: turning a schedule off deletes its future auto-scheduled runs; a run
    made by hand and one that started stay; on again, the scheduler makes the
    deleted ones anew."""
    flow = _scheduled_flow(client, project)
    settings = make_settings(server.settings.database_url)
    now = EPOCH + timedelta(seconds=1)
    made = schedule_flow_runs(server.db, settings, now)
    assert made >= 2
    by_hand = client.create_flow_run(flow["id"])
    auto = [
        r for r in client.get_flow_runs(flow_group_id=flow["flow_group_id"]) if r["auto_scheduled"]
    ]
    started = min(auto, key=lambda r: r["scheduled_start"])["id"]  # the first one started
    client.set_flow_run_state(started, "Running")
    client.set_schedule_active(flow["flow_group_id"], False)
    left = {r["id"] for r in client.get_flow_runs(flow_group_id=flow["flow_group_id"])}
    assert left == {by_hand["id"], started}
    client.set_schedule_active(flow["flow_group_id"], True)
    assert schedule_flow_runs(server.db, settings, now) >= made - 1


def test_inactive_schedules_and_new_versions(client, server, project) -> None:
    flow = _scheduled_flow(client, project)
    settings = make_settings(server.settings.database_url)
    now = EPOCH + timedelta(seconds=1)
    client.set_schedule_active(flow["flow_group_id"], False)
    assert schedule_flow_runs(server.db, settings, now) == 0
    client.set_schedule_active(flow["flow_group_id"], True)
    assert schedule_flow_runs(server.db, settings, now) > 0
    newer = client.register_document(
        flow_document(name="tick", schedule=EVERY_10_MIN, tasks=("only",)),
        project_id=project["id"],
    )
    assert client.get_flow_runs(flow_id=flow["id"]) == []
    assert schedule_flow_runs(server.db, settings, now) > 0
    runs = client.get_flow_runs(flow_group_id=flow["flow_group_id"])
    assert {r["flow_id"] for r in runs} == {newer["id"]}


def _running(client: Client, flow_id: str, max_retries: int = 0) -> str:
    run_id = client.create_flow_run(flow_id, max_retries=max_retries)["id"]
    agent = client.register_agent("a")
    client.claim_flow_runs(agent["id"])
    client.set_flow_run_state(run_id, "Running")
    return run_id


def test_reaper_fails_a_run_whose_heartbeat_stopped(client, server, flow_id) -> None:
    run_id = _running(client, flow_id)
    client.report(
        run_id,
        {"task_runs": [{"task_slug": "extract-1", "version": 0, "state": {"name": "Running"}}]},
    )
    settings = server.settings
    soon = datetime.now(UTC) + timedelta(seconds=settings.heartbeat_timeout / 2)
    assert reap_zombies(server.db, settings, soon) == 0
    late = datetime.now(UTC) + timedelta(seconds=settings.heartbeat_timeout + 1)
    assert reap_zombies(server.db, settings, late) == 1
    run = client.get_flow_run(run_id)
    assert run["state"] == "Failed" and "no heartbeat" in run["state_message"]
    assert client.get_task_runs(run_id, task_slug="extract-1")[0]["state"] == "Failed"
    assert reap_zombies(server.db, settings, late) == 0


def test_reaper_reschedules_while_retries_remain(client, server, flow_id) -> None:
    run_id = _running(client, flow_id, max_retries=1)
    client.report(
        run_id,
        {
            "task_runs": [
                {"task_slug": "extract-1", "version": 0, "state": {"name": "Running"}},
                {"task_slug": "extract-1", "version": 1, "state": {"name": "Success"}},
                {"task_slug": "load-1", "version": 0, "state": {"name": "Running"}},
            ]
        },
    )
    settings = server.settings
    late = datetime.now(UTC) + timedelta(seconds=settings.heartbeat_timeout + 1)
    assert reap_zombies(server.db, settings, late) == 1
    run = client.get_flow_run(run_id)
    assert run["state"] == "Scheduled" and "retry 1 of 1" in run["state_message"]
    assert run["agent_id"] is None and run["task_run_counts"] == {"Success": 1, "Pending": 2}
    assert datetime.fromisoformat(run["scheduled_start"]) == late
    client.set_flow_run_state(run_id, "Running")
    later = late + timedelta(seconds=settings.heartbeat_timeout + 1)
    assert reap_zombies(server.db, settings, later) == 1
    assert client.get_flow_run(run_id)["state"] == "Failed"


def test_reaper_finishes_cancelling_and_stuck_submitted_runs(client, server, flow_id) -> None:
    """A claimed run whose agent never heartbeats it is stuck after heartbeat_timeout (see
    test_runner_deaths for one whose agent holds it until submitted_timeout)."""
    cancelling = _running(client, flow_id)
    client.cancel_flow_run(cancelling)
    stuck = client.create_flow_run(flow_id)["id"]
    client.claim_flow_runs(client.register_agent("c")["id"])
    settings = server.settings
    t = datetime.now(UTC) + timedelta(seconds=settings.heartbeat_timeout / 2)
    assert reap_zombies(server.db, settings, t) == 0
    assert client.get_flow_run(stuck)["state"] == "Submitted"
    t = datetime.now(UTC) + timedelta(seconds=settings.heartbeat_timeout + 1)
    assert reap_zombies(server.db, settings, t) == 2
    assert client.get_flow_run(cancelling)["state"] == "Cancelled"
    run = client.get_flow_run(stuck)
    assert run["state"] == "Failed" and "claimed but not started" in run["state_message"]
    assert "agent stopped heartbeating" in run["state_message"]


def test_late_runs_are_flagged_and_visible(client, server, flow_id) -> None:
    due = client.create_flow_run(flow_id)["id"]
    taken = client.create_flow_run(flow_id)["id"]
    future = client.create_flow_run(
        flow_id, scheduled_start=datetime.now(UTC) + timedelta(hours=2)
    )["id"]
    client.claim_flow_runs(client.register_agent("a")["id"], limit=1)
    settings = server.settings
    assert mark_late_runs(server.db, settings, datetime.now(UTC)) == 0
    t = datetime.now(UTC) + timedelta(seconds=settings.late_after + 1)
    assert mark_late_runs(server.db, settings, t) == 1
    assert mark_late_runs(server.db, settings, t) == 0
    flagged = [r["id"] for r in client.get_flow_runs(is_late=True)]
    claimed_first = client.get_flow_run(due)["state"] == "Submitted"
    assert flagged == [taken if claimed_first else due]
    assert not client.get_flow_run(future)["is_late"]


def test_service_loop_runs_every_step(client, server, project) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    every = IntervalSchedule(start_date=start, interval=timedelta(minutes=10)).serialize()
    client.register_document(flow_document(schedule=every), project_id=project["id"])
    done = ServiceLoop(server.db, server.settings).run_once()
    assert set(done) == {
        "scheduler",
        "zombie_reaper",
        "late_runs",
        "run_tokens",
        "housekeeping",
        "log_retention",
        "notifications",
    }
    assert done["scheduler"] >= 1


def test_reaper_spares_a_run_that_heartbeats_after_being_listed(
    client, server, flow_id, monkeypatch
) -> None:
    from headrace.server.services import reaper

    run_id = _running(client, flow_id)
    settings = server.settings
    late = datetime.now(UTC) + timedelta(seconds=settings.heartbeat_timeout + 1)
    assert reaper._zombie_ids(server.db, settings, late) == [run_id]
    original = reaper._zombie_ids

    def list_then_beat(db, s, now):
        """The runner's heartbeat lands between the listing and the locked re-check."""
        ids = original(db, s, now)
        with db.session() as session:
            session.execute(sa.update(FlowRun).where(FlowRun.id == run_id).values(heartbeat=late))
        return ids

    monkeypatch.setattr(reaper, "_zombie_ids", list_then_beat)
    assert reap_zombies(server.db, settings, late) == 0
    assert client.get_flow_run(run_id)["state"] == "Running"


def test_old_report_batches_are_forgotten(client, server, flow_id) -> None:
    run_id = _running(client, flow_id)
    client.report(run_id, {"batch_id": "old", "logs": [{"message": "once"}]})
    settings = server.settings
    assert prune_report_batches(server.db, settings, datetime.now(UTC)) == 0
    later = datetime.now(UTC) + timedelta(seconds=settings.report_batch_ttl + 1)
    assert prune_report_batches(server.db, settings, later) == 1
    client.report(run_id, {"batch_id": "old", "logs": [{"message": "once"}]})
    assert len(client.get_logs(run_id)) == 2
