"""Many writers at once on one server — agents claiming, runners reporting and heartbeating,
the services stepping every 50 ms — finish every run without a lost update or a
"database is locked" error, on SQLite as on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from tests.server.conftest import flow_document, make_settings
from tests.support.headrace_server import LiveServer

from headrace.client import Client


@pytest.fixture
def busy_server(database_url: str) -> Iterator[LiveServer]:
    settings = make_settings(database_url, run_services=True, services_interval=0.05)
    live = LiveServer(settings).start()
    try:
        yield live
    finally:
        live.stop()


def _agent(url: str, index: int, errors: list[str]) -> None:
    try:
        with Client(url, retries=0) as client:
            agent = client.register_agent(f"agent-{index}")
            while runs := client.claim_flow_runs(agent["id"], limit=2):
                for run in runs:
                    rid, version = run["id"], run["version"]
                    start = {"state": {"name": "Running"}, "version": version}
                    assert client.report(rid, {"flow_run_state": start})["flow_run_status"] == (
                        "applied"
                    )
                    for k in range(3):
                        changes = [
                            {
                                "task_slug": "transform-1",
                                "map_index": j,
                                "version": 0,
                                "state": {"name": "Running"},
                            }
                            for j in range(k * 40, k * 40 + 40)
                        ]
                        logs = [{"message": f"batch {k}"}] * 20
                        answer = client.report(rid, {"task_runs": changes, "logs": logs})
                        assert {t["status"] for t in answer["task_runs"]} == {"applied"}
                        client.heartbeat(rid)
                    end = {"state": {"name": "Success"}, "version": version + 1}
                    finish = [
                        {"task_slug": slug, "map_index": j, "version": v, "state": {"name": s}}
                        for slug, j, v, s in _finishing()
                    ]
                    answer = client.report(rid, {"flow_run_state": end, "task_runs": finish})
                    assert answer["flow_run_status"] == "applied"
    except Exception as exc:  # reported by the test below
        errors.append(f"agent {index}: {exc!r}")


def _finishing() -> list[tuple[str, int, int, str]]:
    """Every task run of a run ends Success (the children were Running at version 1): the
    server lets a run succeed only then."""
    children = [("transform-1", j, 1, "Success") for j in range(120)]
    tasks = [
        (slug, -1, version, name)
        for slug in ("extract-1", "transform-1", "load-1")
        for version, name in ((0, "Running"), (1, "Success"))
    ]
    return children + tasks


def test_concurrent_agents_runners_and_services(busy_server: LiveServer) -> None:
    with Client(busy_server.url) as client:
        project = client.create_project("p")
        flow = client.register_document(flow_document(), project_id=project["id"])
        runs = {client.create_flow_run(flow["id"])["id"] for _ in range(30)}
        errors: list[str] = []
        agents = [
            threading.Thread(target=_agent, args=(busy_server.url, i, errors)) for i in range(4)
        ]
        for t in agents:
            t.start()
        for t in agents:
            t.join()
        assert errors == []
        done = client.get_flow_runs(state=["Success"], limit=1000)
        assert {r["id"] for r in done} == runs
        for rid in list(runs)[:3]:
            assert client.get_flow_run(rid)["task_run_counts"] == {"Success": 123}
            assert len(client.get_logs(rid, limit=1000)) == 60


def test_a_lock_held_too_long_answers_503_so_clients_retry(tmp_path) -> None:
    import sqlite3

    import httpx

    from headrace.server.db.database import Database

    url = f"sqlite:///{tmp_path / 'locked.db'}"
    Database(url).migrate()
    live = LiveServer(make_settings(url, sqlite_busy_timeout=0.2)).start()
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        answer = httpx.post(f"{live.url}/api/projects", json={"name": "p"})
        assert (answer.status_code, answer.json()["code"]) == (503, "busy")
        holder.execute("ROLLBACK")
        with Client(live.url, retries=2, backoff=0.01) as client:
            assert client.create_project("p")["name"] == "p"
    finally:
        holder.close()
        live.stop()
