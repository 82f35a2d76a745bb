"""Dask workers of a server that requires API keys: they do not have the user's key (a
plain ``dask worker``), so the runner hands them a per-run token that may only report for
that run, and their states and log lines arrive; when their reports are refused anyway (the
token expired), the run says so in a warning log line, which the UI's run page shows.

Real parts: a live server requiring keys on SQLite, a BackendFlowRunner in this process
and a ``DaskExecutor`` on a temporary ``LocalCluster`` (worker processes that never see the
key: it is passed to the runner's client only, not to the environment or config).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.server.conftest import flow_document, make_settings
from tests.support.headrace_server import LiveServer

from headrace import Flow, context, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner
from headrace.executors import DaskExecutor
from headrace.server.domain.auth import create_api_key

CHILDREN = 4


def _executor() -> DaskExecutor:
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


def _flow(name: str) -> Flow:
    @task
    def numbers() -> list[int]:
        return list(range(CHILDREN))

    @task
    def work(x: int) -> int:
        context.logger.warning("worker line %s", x)
        return x

    with Flow(name) as flow:
        work.map(numbers())
    return flow


def _server(tmp_path: Path, ttl: float) -> tuple[LiveServer, str]:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'keys.db'}", require_api_key=True, run_token_ttl=ttl
    )
    live = LiveServer(settings).start()
    with live.db.session() as session:
        _row, key = create_api_key(session, "admin")
    return live, key


@pytest.fixture
def secured(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, str]]:
    live, key = _server(tmp_path, float(request.param))
    try:
        yield live, key
    finally:
        live.stop()


def _run(live: LiveServer, key: str, name: str) -> tuple[Client, dict, object]:
    client = Client(live.url, api_key=key, retries=2, backoff=0.05)
    flow = _flow(name)
    run = client.create_flow_run(client.register(flow, project_name="workers", build=False))
    state = BackendFlowRunner(flow, flow_run_id=run["id"], client=client).run(executor=_executor())
    return client, run, state


@pytest.mark.dask
@pytest.mark.parametrize("secured", [3600.0], indirect=True)
def test_workers_without_the_key_report_with_the_runs_token(
    secured: tuple[LiveServer, str],
) -> None:
    live, key = secured
    client, run, state = _run(live, key, "tokened")
    with client:
        assert state.is_successful()  # type: ignore[attr-defined]
        lines = {r["message"] for r in client.get_logs(run["id"]) if "worker line" in r["message"]}
        assert lines == {f"worker line {i}" for i in range(CHILDREN)}
        assert not [r for r in client.get_logs(run["id"]) if "never reached" in r["message"]]
        token_rows = [k for k in client.get_api_keys()]
        assert [k["name"] for k in token_rows] == ["admin"]  # run tokens are not listed
    # the token only reports for its run: nothing else
    with live.db.session() as session:
        from headrace.server.domain.auth import create_run_token

        _row, token = create_run_token(session, run["id"], run["project_id"], 60)
    denied = httpx.get(f"{live.url}/api/flow_runs/{run['id']}", headers={"X-Api-Key": token})
    assert denied.status_code == 403 and "may only report" in denied.json()["detail"]


@pytest.mark.dask
@pytest.mark.parametrize("secured", [0.001], indirect=True)
def test_refused_worker_reports_show_on_the_run_and_in_the_ui(
    secured: tuple[LiveServer, str],
) -> None:
    live, key = secured
    client, run, state = _run(live, key, "refused")
    with client:
        assert state.is_successful()  # type: ignore[attr-defined]  # settled by the runner
        logs = client.get_logs(run["id"])
        assert not [r for r in logs if "worker line" in r["message"]]  # lost with the reports
        (warning,) = [r for r in logs if "never reached the server" in r["message"]]
        assert warning["level"] == logging.WARNING
        assert "HEADRACE__API__KEY" in warning["message"]
        page = client.request("GET", f"/ui/flow_runs/{run['id']}")
        assert "never reached the server" in str(page)
        states = {
            (t["task_name"], t["map_index"]): t["state"] for t in client.get_task_runs(run["id"])
        }
        assert all(states[("work", i)] == "Success" for i in range(CHILDREN))


@pytest.mark.parametrize("secured", [3600.0], indirect=True)
def test_expired_run_tokens_are_refused_and_pruned(secured: tuple[LiveServer, str]) -> None:
    from datetime import timedelta

    from headrace.server.db.models import ApiKey, utcnow
    from headrace.server.domain.auth import create_run_token
    from headrace.server.services import SERVICES, prune_run_tokens

    live, key = secured
    with Client(live.url, api_key=key) as client:
        project = client.create_project("tokens")
        flow = client.register_document(flow_document(), project_id=project["id"])
        run = client.create_flow_run(flow["id"])
        fresh = client.run_token(run["id"])["token"]
    with live.db.session() as session:
        _row, stale = create_run_token(session, run["id"], project["id"], -1)
    report = f"{live.url}/api/flow_runs/{run['id']}/report"
    ok = httpx.post(report, json={"heartbeat": False}, headers={"X-Api-Key": fresh})
    assert ok.status_code == 200, ok.text
    expired = httpx.post(report, json={"heartbeat": False}, headers={"X-Api-Key": stale})
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert SERVICES["run_tokens"] is prune_run_tokens
    assert prune_run_tokens(live.db, live.settings, utcnow()) == 1
    assert prune_run_tokens(live.db, live.settings, utcnow() + timedelta(hours=2)) == 1
    with live.db.session() as session:
        assert session.query(ApiKey).filter(ApiKey.flow_run_id.is_not(None)).count() == 0
