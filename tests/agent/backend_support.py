"""Fixtures shared by the runner-side tests (agents, CLI, backend runner, end to end): a real
headrace server on a real database (SQLite file; PostgreSQL where a test asks for both),
a client, and the environment flow-run subprocesses need to stay inside the test's home.

Import the fixtures into a conftest or test module: ``from tests.agent.backend_support
import backend_server, api, agent_env`` (the database fixtures come from the server's
conftest and are imported alongside).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require
from tests.server.conftest import make_settings, postgres_server, sqlite_template
from tests.support.headrace_server import LiveServer
from tests.support.postgres import postgres_available

from headrace.client import Client

__all__ = [
    "agent_env",
    "any_database_url",
    "api",
    "backend_server",
    "postgres_server",
    "register_script",
    "sqlite_template",
    "sqlite_url",
    "wait_for",
    "wait_for_state",
]

FINISHED = {"Success", "Failed", "Cancelled", "TimedOut", "TriggerFailed"}


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.1)


def wait_for_state(
    client: Client, flow_run_id: str, states: set[str] | None = None, timeout: float = 90.0
) -> dict[str, Any]:
    wanted = states or FINISHED

    def check() -> dict[str, Any] | None:
        run = client.get_flow_run(flow_run_id)
        return run if run["state"] in wanted else None

    return wait_for(check, timeout, f"flow run {flow_run_id} to reach {sorted(wanted)}")


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "headrace.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    """Each database in turn (for the tests cheap enough to run twice)."""
    if request.param == "sqlite":
        yield sqlite_url
        return
    server = request.getfixturevalue("postgres_server")
    require("postgres", server is not None, postgres_available()[1])
    name = f"t_{uuid.uuid4().hex[:12]}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE headrace_template")
    try:
        yield server.url(name)
    finally:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def backend_server(sqlite_url: str) -> Iterator[LiveServer]:
    """A live server on SQLite; services off (tests drive the reaper themselves)."""
    live = LiveServer(make_settings(sqlite_url, heartbeat_timeout=3.0)).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def api(backend_server: LiveServer) -> Iterator[Client]:
    with Client(backend_server.url, retries=2, backoff=0.05) as client:
        yield client


@pytest.fixture
def agent_env(_isolated_home: Path) -> dict[str, str]:
    """Environment for flow-run subprocesses: the test's home and results directory, short
    report/heartbeat intervals, the source tree importable."""
    return {
        "HEADRACE__HOME_DIR": str(_isolated_home),
        "HEADRACE__FLOWS__RESULTS_DIR": str(_isolated_home / "results"),
        "HEADRACE__CLOUD__REPORT_INTERVAL": "0.2",
        "HEADRACE__CLOUD__HEARTBEAT_INTERVAL": "0.5",
        "HEADRACE__LOGGING__LEVEL": "INFO",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }


def register_script(client: Client, path: Path, project: str = "tests", **kwargs: Any) -> str:
    """Register the flow a script defines, stored as that script (Local storage)."""
    import runpy

    from headrace.core.flow import Flow
    from headrace.storage import Local

    namespace = runpy.run_path(str(path), run_name="__headrace_flow__")
    (flow,) = [v for v in namespace.values() if isinstance(v, Flow)]
    if flow.storage is None:
        flow.storage = Local(stored_as_script=True, path=str(path))
    labels = set(kwargs.pop("labels", ()))
    for part in (flow.storage, flow.environment, flow.run_config):
        labels.update(getattr(part, "labels", None) or ())
    return client.register(flow, project_name=project, labels=sorted(labels), **kwargs)
