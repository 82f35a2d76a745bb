"""The scheduler honours each clock's parameters and labels; backfills create the runs a
schedule has in a window exactly once, capped in concurrency; registration refuses
schedules the server could not run. Real server over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from tests.server.conftest import finish_task_runs, flow_document, make_settings

from headrace.client import Client
from headrace.client.errors import ApiError
from headrace.schedules import CronClock, IntervalClock, Schedule, filters
from headrace.server.services import schedule_flow_runs

EPOCH = datetime(2030, 1, 7, tzinfo=UTC)  # a Monday
PARAMS = [{"name": "region", "default": "eu", "required": False}]


def _register(client: Client, project: dict, schedule: Schedule, name: str = "etl") -> dict:
    doc = flow_document(name=name, parameters=PARAMS, schedule=schedule.serialize())
    return client.register_document(doc, project_id=project["id"])


def test_scheduler_gives_each_clocks_runs_its_parameters_and_labels(
    client, server, project
) -> None:
    schedule = Schedule(
        clocks=[
            IntervalClock(
                timedelta(hours=1), start_date=EPOCH, parameter_defaults={"region": "us"}
            ),
            IntervalClock(
                timedelta(hours=2),
                start_date=EPOCH,
                parameter_defaults={"region": "ap"},
                labels=["gpu"],
            ),
        ]
    )
    flow = _register(client, project, schedule)
    settings = make_settings(server.settings.database_url, schedule_horizon=7200.0)
    now = EPOCH + timedelta(seconds=1)
    assert schedule_flow_runs(server.db, settings, now) == 3
    assert schedule_flow_runs(server.db, settings, now) == 0  # idempotent
    runs = client.get_flow_runs(flow_id=flow["id"], order="oldest")
    got = sorted(
        ((r["scheduled_start"][11:16], r["parameters"], r["labels"]) for r in runs),
        key=repr,
    )
    # 02:00 has two runs: one per clock, each with its own parameters and labels.
    assert got == [
        ("01:00", {"region": "us"}, []),
        ("02:00", {"region": "ap"}, ["gpu"]),
        ("02:00", {"region": "us"}, []),
    ]
    # Only an agent with the gpu label may claim the gpu clock's run.
    plain = client.register_agent("plain")
    gpu = client.register_agent("gpu-box", labels=["gpu"])
    later = EPOCH + timedelta(hours=3)
    with server.db.session() as s:
        from headrace.server.db.models import Agent
        from headrace.server.domain.auth import Principal
        from headrace.server.domain.claim import claim_flow_runs

        taken_plain = claim_flow_runs(s, s.get(Agent, plain["id"]), Principal(), later, 10)
        taken_gpu = claim_flow_runs(s, s.get(Agent, gpu["id"]), Principal(), later, 10)
        assert sorted(r.parameters["region"] for r in taken_plain) == ["us", "us"]
        assert [r.parameters["region"] for r in taken_gpu] == ["ap"]


def test_filters_apply_on_the_server_too(client, server, project) -> None:
    schedule = Schedule(
        clocks=[
            CronClock("0 * * * *", start_date=datetime(2030, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")))
        ],
        filters=[filters.between_times(time(9), time(10))],
    )
    flow = _register(client, project, schedule)
    settings = make_settings(
        server.settings.database_url, schedule_horizon=86400.0, schedule_max_runs=10
    )
    # EPOCH is 09:00 in Tokyo: strictly after it, the next day's 24 hours hold 10:00 and 09:00.
    assert schedule_flow_runs(server.db, settings, EPOCH) == 2
    runs = client.get_flow_runs(flow_id=flow["id"], order="oldest")
    tokyo = sorted(
        datetime.fromisoformat(r["scheduled_start"]).astimezone(ZoneInfo("Asia/Tokyo"))
        for r in runs
    )
    assert [(t.day, t.hour) for t in tokyo] == [(7, 10), (8, 9)]


def test_backfill_creates_each_run_once_and_skips_ones_the_scheduler_made(
    client, server, project
) -> None:
    schedule = Schedule(
        clocks=[IntervalClock(timedelta(hours=6), start_date=EPOCH)],
        filters=[filters.is_weekday],
    )
    flow = _register(client, project, schedule)
    start, end = EPOCH + timedelta(days=3), EPOCH + timedelta(days=6)  # Thu .. Sun
    first = client.backfill(flow["id"], start, end)
    # Thu 4 + Fri 4 runs; Saturday and Sunday are filtered out.
    assert (first["created_runs"], first["existing_runs"]) == (8, 0)
    runs = client.get_flow_runs(flow_id=flow["id"], order="oldest")
    assert [r["id"] for r in runs] == first["run_ids"]
    assert runs[0]["scheduled_start"].startswith("2030-01-10T00:00")
    assert not any(r["auto_scheduled"] for r in runs)
    again = client.backfill(flow["id"], start - timedelta(days=1), end)
    assert (again["created_runs"], again["existing_runs"]) == (4, 8)
    assert len(client.get_flow_runs(flow_id=flow["id"])) == 12
    # The scheduler's own runs for a time share the backfill's key: still one run each.
    settings = make_settings(server.settings.database_url, schedule_horizon=86400.0 * 2)
    made = schedule_flow_runs(server.db, settings, EPOCH + timedelta(days=5, hours=12))
    assert made > 0
    third = client.backfill(flow["id"], EPOCH, EPOCH + timedelta(days=9))
    starts = [r["scheduled_start"] for r in client.get_flow_runs(flow_id=flow["id"])]
    assert len(starts) == len(set(starts))
    assert third["created_runs"] + third["existing_runs"] == len(third["run_ids"])


def test_backfill_concurrency_cap_holds_back_runs_until_others_finish(
    client, server, project
) -> None:
    past = datetime(2025, 1, 6, tzinfo=UTC)  # agents claim only runs whose time has come
    daily = Schedule([IntervalClock(timedelta(days=1), start_date=past)])
    flow = _register(client, project, daily)
    backfill = client.backfill(flow["id"], past, past + timedelta(days=4), max_concurrent=2)
    assert backfill["created_runs"] == 5
    agent = client.register_agent("worker")
    first = client.claim_flow_runs(agent["id"], limit=10)
    # Oldest first, and no more than the cap at once.
    assert [r["id"] for r in first] == backfill["run_ids"][:2]
    assert client.claim_flow_runs(agent["id"], limit=10) == []
    other = client.register_document(flow_document(name="other"), project_id=project["id"])
    plain = client.create_flow_run(other["id"])
    assert [r["id"] for r in client.claim_flow_runs(agent["id"], limit=10)] == [plain["id"]]
    client.set_flow_run_state(first[0]["id"], "Running")
    finish_task_runs(client, first[0]["id"])
    client.set_flow_run_state(first[0]["id"], "Success")
    nxt = client.claim_flow_runs(agent["id"], limit=10)
    assert [r["id"] for r in nxt] == [backfill["run_ids"][2]]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}, "before start"),
        ({"start": "2030-01-01", "end": "2030-01-02", "max_concurrent": 0}, "max_concurrent"),
        ({"start": "2030-01-01", "end": "2030-01-02", "surprise": 1}, "surprise"),
        ({"start": "2030-01-01", "end": "2040-01-02"}, "more than 5000"),
    ],
)
def test_bad_backfills_are_refused_naming_the_culprit(
    client, server, project, body: dict, fragment: str
) -> None:
    schedule = Schedule([IntervalClock(timedelta(hours=1), start_date=EPOCH)])
    flow = _register(client, project, schedule)
    with pytest.raises(ApiError) as info:
        client.request("POST", "/backfills", json={"flow_id": flow["id"], **body})
    assert fragment in str(info.value)


def test_backfill_of_an_unscheduled_flow_is_refused(client, server, project) -> None:
    flow = client.register_document(flow_document(name="plain"), project_id=project["id"])
    with pytest.raises(ApiError, match="has no schedule"):
        client.backfill(flow["id"], EPOCH, EPOCH + timedelta(days=1))


@pytest.mark.parametrize(
    ("schedule", "fragment"),
    [
        ({"type": "Schedule", "clocks": [{"type": "Sundial"}]}, "unknown clock type 'Sundial'"),
        (
            Schedule(
                [IntervalClock(timedelta(hours=1), parameter_defaults={"colour": 1})]
            ).serialize(),
            "no parameter 'colour'",
        ),
        (
            {"type": "Schedule", "clocks": [], "filters": [{"name": "os.system", "args": ["x"]}]},
            "unknown 'os.system'",
        ),
    ],
)
def test_registration_refuses_schedules_the_server_cannot_run(
    client, server, project, schedule: dict, fragment: str
) -> None:
    doc = flow_document(name="bad", parameters=PARAMS, schedule=schedule)
    with pytest.raises(ApiError) as info:
        client.register_document(doc, project_id=project["id"])
    assert fragment in str(info.value)


def test_a_required_parameter_must_come_from_every_clock(client, server, project) -> None:
    params = [{"name": "day", "default": None, "required": True}]
    ok = Schedule([IntervalClock(timedelta(days=1), parameter_defaults={"day": "mon"})])
    bad = Schedule([IntervalClock(timedelta(days=1))])
    client.register_document(
        flow_document(name="req", parameters=params, schedule=ok.serialize()),
        project_id=project["id"],
    )
    with pytest.raises(ApiError, match="required parameter 'day'"):
        client.register_document(
            flow_document(name="req2", parameters=params, schedule=bad.serialize()),
            project_id=project["id"],
        )
