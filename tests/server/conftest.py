"""Fixtures for server tests: a real database (SQLite file or PostgreSQL 15) and a real
HTTP server on it. ``database_url`` is parametrised over both databases, so every test that
uses it runs on each; the schema is migrated once per session into a template that each
test copies (a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL)."""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require
from tests.support.headrace_server import LiveServer
from tests.support.postgres import PostgresServer, postgres_available, start_postgres
from tests.support.receivers import http_receiver  # noqa: F401 - fixture

from headrace.client import Client
from headrace.server.db.database import Database
from headrace.server.settings import ServerSettings


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    available, _why = postgres_available()
    if not available:
        yield None
        return
    server = start_postgres()
    try:
        server.execute("CREATE DATABASE headrace_template")
        db = Database(server.url("headrace_template"))
        db.migrate()
        db.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A migrated, empty database of each kind, private to the test."""
    if request.param == "sqlite":
        path = tmp_path / "headrace.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer | None = request.getfixturevalue("postgres_server")
    require("postgres", server is not None, postgres_available()[1])
    assert server is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE headrace_template")
    try:
        yield server.url(name)
    finally:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def make_settings(database_url: str, **overrides: Any) -> ServerSettings:
    values: dict[str, Any] = {"database_url": database_url, "run_services": False}
    values.update(overrides)
    return ServerSettings.from_config(**values)


@pytest.fixture
def settings(database_url: str) -> ServerSettings:
    return make_settings(database_url)


@pytest.fixture
def server(settings: ServerSettings) -> Iterator[LiveServer]:
    live = LiveServer(settings).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[Client]:
    with Client(server.url, retries=2, backoff=0.05) as c:
        yield c


def finish_task_runs(client: Client, flow_run_id: str, state: str = "Success") -> None:
    """Move every task run of ``flow_run_id`` through Running to ``state``, as a runner
    would before its flow run may succeed (the server refuses Success before that)."""
    for row in client.get_task_runs(flow_run_id):
        if row["state"] == "Pending":
            client.set_task_run_state(row["id"], "Running", version=row["version"])
            client.set_task_run_state(row["id"], state, version=row["version"] + 1)


def flow_document(
    name: str = "etl",
    tasks: tuple[str, ...] = ("extract", "transform", "load"),
    parameters: list[dict[str, Any]] | None = None,
    schedule: dict[str, Any] | None = None,
    labels: tuple[str, ...] = (),
    tags: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A document shaped like ``flow.serialize()`` (keys per DESIGN.md)."""
    tags = tags or {}
    params = parameters or []
    return {
        "version": 1,
        "name": name,
        "tasks": [
            {
                "name": t,
                "slug": f"{t}-1",
                "type": "headrace.core.task:Task",
                "tags": tags.get(t, []),
            }
            for t in tasks
        ]
        + [
            {"name": p["name"], "slug": p["name"], "type": "headrace.core.parameter:Parameter"}
            for p in params
        ],
        "parameters": params,
        "edges": [
            {"upstream": f"{a}-1", "downstream": f"{b}-1", "key": None, "mapped": False}
            for a, b in itertools.pairwise(tasks)
        ],
        "reference_tasks": [f"{tasks[-1]}-1"] if tasks else [],
        "schedule": schedule,
        "environment": {
            "type": "headrace.environments.execution:LocalEnvironment",
            "labels": sorted(labels),
            "metadata": {},
        },
        "storage": {"type": "headrace.storage:Local", "flows": {name: f"/tmp/{name}.flow"}},
        "run_config": None,
    }


@pytest.fixture
def project(client: Client) -> dict[str, Any]:
    return client.create_project("proj")


@pytest.fixture
def flow_id(client: Client, project: dict[str, Any]) -> str:
    return str(client.register_document(flow_document(), project_id=project["id"])["id"])
