"""The client against a real server: retries across a down or restarting server, errors
carrying the server's message, and registering a real Flow object."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from tests.support.headrace_server import LiveServer, free_port

from headrace import Flow, task
from headrace.client import (
    Client,
    ConflictError,
    NotFoundError,
    ServerUnavailableError,
    ValidationError,
)
from headrace.configuration import config


class _RetryLog(logging.Handler):
    """Sets an event when the client logs that it will retry (so tests need no sleeps)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.retried = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self.retried.set()


@pytest.fixture
def retry_log() -> Iterator[_RetryLog]:
    handler = _RetryLog()
    logger = logging.getLogger("headrace.client")
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


def test_a_request_waits_out_a_server_that_is_briefly_down(
    live_server: LiveServer, retry_log: _RetryLog
) -> None:
    live_server.stop()
    result: dict = {}

    def call() -> None:
        with Client(live_server.url, retries=8, backoff=0.05) as client:
            result["projects"] = client.get_projects()

    caller = threading.Thread(target=call)
    caller.start()
    assert retry_log.retried.wait(30), "the client never retried"
    live_server.start()
    caller.join(60)
    assert result == {"projects": []}


def test_the_same_client_survives_a_server_restart(live_server: LiveServer) -> None:
    with Client(live_server.url, retries=5, backoff=0.05) as client:
        made = client.create_project("before")
        live_server.restart()
        assert client.get_project(made["id"])["name"] == "before"
        assert client.create_project("after")["name"] == "after"


def test_retries_give_up_with_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with (
        Client(url, retries=2, backoff=0.01) as client,
        pytest.raises(ServerUnavailableError, match=r"unreachable after 3 attempt\(s\)") as info,
    ):
        client.health()
    assert url in str(info.value) and isinstance(info.value, ConnectionError)


def _flaky_app(failures: int):
    """A real ASGI server that answers 503 ``failures`` times, then 200."""
    calls = {"n": 0}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        calls["n"] += 1
        status, body = (503, b"busy") if calls["n"] <= failures else (200, b'{"status":"ok"}')
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app, calls


def _serve(app) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("flaky server did not start")
        threading.Event().wait(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


def test_503_answers_are_retried_then_reported() -> None:
    app, calls = _flaky_app(failures=2)
    server, thread, url = _serve(app)
    try:
        with Client(url, retries=3, backoff=0.01) as client:
            assert client.health() == {"status": "ok"}
        assert calls["n"] == 3
        calls["n"] = -10
        with (
            Client(url, retries=1, backoff=0.01) as client,
            pytest.raises(ServerUnavailableError, match="answered 503 after 2 attempt"),
        ):
            client.health()
    finally:
        server.should_exit = True
        thread.join(10)


def test_errors_carry_the_server_message(live_server: LiveServer) -> None:
    with Client(live_server.url, retries=0) as client:
        with pytest.raises(NotFoundError, match="flow run nope not found") as missing:
            client.get_flow_run("nope")
        assert missing.value.status == 404 and missing.value.code == "not_found"
        client.create_project("p")
        with pytest.raises(ConflictError, match="project 'p' already exists"):
            client.create_project("p")
        with pytest.raises(ValidationError, match="limit") as invalid:
            client.claim_flow_runs("x", limit=0)
        assert invalid.value.status == 422 and "limit" in invalid.value.field


def test_register_builds_serializes_and_is_idempotent(
    live_server: LiveServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headrace.storage import Local

    with config.override(**{"api.url": live_server.url}):

        @task
        def double(x: int) -> int:
            return 2 * x

        with Flow("doubler", storage=Local(directory=str(tmp_path / "flows"))) as flow:
            double(3)
        flow_id = flow.register(project_name="demo", labels=["here"])
        assert flow.register(project_name="demo", labels=["here"]) == flow_id
        with Client() as client:
            stored = client.get_flow(flow_id)
            assert stored["name"] == "doubler" and "here" in stored["labels"]
            assert stored["document"]["storage"]["flows"]["doubler"]
            assert [t["name"] for t in stored["document"]["tasks"]] == ["double"]
            assert [p["name"] for p in client.get_projects()] == ["demo"]
            changed = client.register(flow, project_name="demo", labels=["here", "more"])
            assert changed != flow_id
            assert client.get_flow(changed)["version"] == 2


def test_plain_http_clients_skip_tls_and_https_clients_share_one_context() -> None:
    import ssl

    from headrace.client.http import Transport

    plain = Transport("http://127.0.0.1:1", None, retries=0, timeout=1)
    first = Transport("https://127.0.0.1:1", None, retries=0, timeout=1)
    second = Transport("https://127.0.0.1:2", None, retries=0, timeout=1)
    try:
        contexts = [t.http._transport._pool._ssl_context for t in (first, second)]  # type: ignore[attr-defined]
        assert contexts[0] is contexts[1]  # built once per process: the CA bundle loads once
        assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname
        pool = plain.http._transport._pool  # type: ignore[attr-defined]
        assert pool._ssl_context.verify_mode == ssl.CERT_NONE  # no store loaded for http://
    finally:
        for t in (plain, first, second):
            t.close()
