"""Request limits answer 4xx naming the limit, never 5xx: a body over the size limit (413,
declared or streamed), a log line over the length cap (stored cut, with a marker), a batch
over the cap (422), a huge offset or cursor (422), a method a route does not take (405 with
``Allow``). Every error has the one body shape.

Real parts: a live server (uvicorn) over HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.server.conftest import flow_document, make_settings
from tests.support.headrace_server import LiveServer

from headrace.client import Client
from headrace.wire.limits import MAX_BATCH

ERROR_KEYS = {"detail", "code", "field", "errors"}
MB = 1024 * 1024


@pytest.fixture
def small_server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(
        make_settings(database_url, max_body_bytes=2 * MB, max_log_message_chars=1000)
    ).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def run_id(client: Client, flow_id: str) -> str:
    return str(client.create_flow_run(flow_id)["id"])


def _is_error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == ERROR_KEYS and body["code"] == code, body
    assert isinstance(body["detail"], str)
    return body


def test_a_50_mb_body_is_refused_with_413_naming_the_limit(server: LiveServer) -> None:
    line = {"flow_run_id": "x", "level": 20, "name": "n", "message": "y" * (50 * MB)}
    answer = httpx.post(f"{server.url}/api/logs", json=[line], timeout=60)
    body = _is_error(answer, 413, "body_too_large")
    assert "33,554,432 bytes" in body["detail"] and "server.max_body_bytes" in body["detail"]


def test_a_streamed_body_over_the_limit_is_refused_with_413(small_server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'[{"flow_run_id": "x", "message": "'
        for _ in range(3 * 16):
            yield b"z" * (64 * 1024)
        yield b'"}]'

    answer = httpx.post(
        f"{small_server.url}/api/logs",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=60,
    )
    body = _is_error(answer, 413, "body_too_large")
    assert "2,097,152 bytes" in body["detail"]


def test_a_long_log_line_is_stored_cut_with_a_marker(small_server: LiveServer) -> None:
    with Client(small_server.url) as client:
        project = client.create_project("p")
        flow = client.register_document(flow_document(), project_id=project["id"])
        run = client.create_flow_run(flow["id"])
        client.write_logs(
            [
                {"flow_run_id": run["id"], "message": "a" * 5000},
                {"flow_run_id": run["id"], "message": "short"},
            ]
        )
        report = {"logs": [{"message": "b" * 3000}], "heartbeat": False}
        client.report(run["id"], report)
        logs = client.get_logs(run["id"])
    cut, short, reported = (r["message"] for r in logs)
    assert len(cut) == 1000 and cut.startswith("a" * 900)
    assert cut.endswith("[truncated 4,000 characters; server.max_log_message_chars = 1,000]")
    assert short == "short"
    assert len(reported) == 1000 and "truncated 2,000 characters" in reported


def test_batches_over_the_cap_are_refused(server: LiveServer, run_id: str) -> None:
    logs = [{"flow_run_id": run_id, "message": "m"}] * (MAX_BATCH + 1)
    body = _is_error(httpx.post(f"{server.url}/api/logs", json=logs), 422, "validation_error")
    assert f"at most {MAX_BATCH} items" in body["detail"]
    task_runs = [{"task_slug": "t", "map_index": i} for i in range(MAX_BATCH + 1)]
    answer = httpx.post(f"{server.url}/api/flow_runs/{run_id}/task_runs", json=task_runs)
    _is_error(answer, 422, "validation_error")
    report = {"logs": [{"message": "m"}] * (MAX_BATCH + 1)}
    answer = httpx.post(f"{server.url}/api/flow_runs/{run_id}/report", json=report)
    _is_error(answer, 422, "validation_error")


@pytest.mark.parametrize(
    "path",
    [
        "/api/flow_runs?offset={big}",
        "/api/flows?offset={big}",
        "/api/ui/flow_runs?offset={big}",
        "/api/flow_runs/{run}/task_runs?offset={big}",
        "/api/flow_runs/{run}/logs?offset={big}",
        "/api/flow_runs/{run}/logs?after_id={big}",
        "/api/ui/flow_runs/{run}?logs_after={big}",
    ],
)
def test_huge_integers_in_queries_are_422(server: LiveServer, run_id: str, path: str) -> None:
    for big in (10**30, 2**63, 2**62 + 1):
        answer = httpx.get(server.url + path.format(big=big, run=run_id))
        body = _is_error(answer, 422, "validation_error")
        assert body["errors"] and body["field"]


def test_a_method_a_route_does_not_take_is_405_with_allow(server: LiveServer) -> None:
    answer = httpx.delete(f"{server.url}/api/flow_runs")
    _is_error(answer, 405, "method_not_allowed")
    assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    _is_error(httpx.get(f"{server.url}/api/no_such_route"), 404, "not_found")
