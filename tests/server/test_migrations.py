"""The shipped Alembic migrations build the schema from an empty database, idempotently."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from tests.conftest import require
from tests.support.postgres import PostgresServer, postgres_available

from headrace.server.db import Database
from headrace.server.models import Base


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sub' / 'fresh.db'}"
        return
    server: PostgresServer | None = request.getfixturevalue("postgres_server")
    require("postgres", server is not None, postgres_available()[1])
    assert server is not None
    name = f"m_{uuid.uuid4().hex[:12]}"
    server.execute(f"CREATE DATABASE {name}")
    try:
        yield server.url(name)
    finally:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_migrations_run_from_empty_and_are_idempotent(empty_url: str) -> None:
    db = Database(empty_url)
    try:
        db.migrate()
        db.migrate()
        inspector = sa.inspect(db.engine)
        tables = set(inspector.get_table_names())
        assert set(Base.metadata.tables) <= tables
        with db.engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert versions == [("i15_orchestration",)]
        for table in Base.metadata.sorted_tables:
            stored = {c["name"] for c in inspector.get_columns(table.name)}
            assert stored == set(table.columns.keys()), table.name
        with db.engine.connect() as conn:  # the models and the migrations agree exactly
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        db.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}", busy_timeout=7)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
    finally:
        db.dispose()
