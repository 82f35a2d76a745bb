"""The shipped Alembic migrations build the schema from an empty database, idempotently."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from tests.conftest import require
from tests.support.postgres import PostgresServer, postgres_available

from headrace.server.db.database import Database
from headrace.server.db.models import Base


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


def _head() -> str:
    """The newest revision of the shipped migrations (exactly one head)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import headrace.server.db

    config = Config()
    config.set_main_option(
        "script_location", str(Path(headrace.server.db.__file__).parent / "migrations")
    )
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return str(head)


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
        assert versions == [(_head(),)]  # one line of migrations, applied to its head
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


def _alembic(db: Database, action: str, revision: str) -> None:
    """Run ``alembic upgrade|downgrade revision`` on ``db`` with the shipped migrations."""
    from alembic import command
    from alembic.config import Config

    from headrace.server.db.database import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)


def _seed_0003(conn: sa.Connection) -> dict[str, str]:
    """A flow run with a task and four mapped children in the 0003 schema, each with the
    history rows the server wrote then; returns the task run ids by name."""
    t0 = "2026-01-01 00:00:00"
    conn.execute(sa.text(f"INSERT INTO projects VALUES ('p', 'p', '', '{t0}')"))
    conn.execute(sa.text(f"INSERT INTO flow_groups VALUES ('g', 'p', 'f', TRUE, '{t0}')"))
    conn.execute(
        sa.text(
            "INSERT INTO flows (id, flow_group_id, project_id, name, version, serialized_hash, "
            f"document, labels, archived, created) VALUES ('f', 'g', 'p', 'f', 1, 'h', '{{}}', "
            f"'[]', FALSE, '{t0}')"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO flow_runs (id, flow_id, flow_group_id, project_id, name, parameters, "
            "labels, auto_scheduled, scheduled_start, state, state_timestamp, version, "
            "max_retries, run_count, is_late, created) VALUES ('r', 'f', 'g', 'p', 'r', '{}', "
            f"'[]', FALSE, '{t0}', 'Running', '{t0}', 3, 0, 1, FALSE, '{t0}')"
        )
    )
    # name: (map_index, [(state, message, second)...]); the row is at the last state
    lives = {
        "parent": (-1, [("Running", "Starting task run.", 1), ("Mapped", None, 9)]),
        "plain": (0, [("Running", "Starting task run.", 2), ("Success", "done", 3)]),
        "failed": (1, [("Running", "Starting task run.", 2), ("Failed", "boom", 4)]),
        "retried": (
            2,
            [
                ("Running", "Starting task run.", 2),
                ("Retrying", "again", 3),
                ("Running", "Starting task run.", 5),
                ("Success", "ok", 6),
            ],
        ),
        "running": (3, [("Running", "Starting task run.", 2)]),
    }
    ids = {}
    for name, (index, states) in lives.items():
        ident = ids[name] = f"tr-{name}"
        last, message, second = states[-1]
        conn.execute(
            sa.text(
                "INSERT INTO task_runs (id, flow_run_id, task_slug, task_name, map_index, tags, "
                "state, state_message, state_timestamp, version, created) VALUES "
                f"(:id, 'r', 'inc', 'inc', :index, '[]', :state, :message, "
                f"'2026-01-01 00:00:0{second}', :version, '{t0}')"
            ),
            {
                "id": ident,
                "index": index,
                "state": last,
                "message": message,
                "version": len(states),
            },
        )
        for version, (state, message, second) in enumerate(states, 1):
            conn.execute(
                sa.text(
                    "INSERT INTO states (flow_run_id, task_run_id, name, message, timestamp, "
                    "version) VALUES ('r', :id, :name, :message, "
                    f"'2026-01-01 00:00:0{second}', :version)"
                ),
                {"id": ident, "name": state, "message": message, "version": version},
            )
    return ids


def _history(db: Database, task_run_id: str) -> list[tuple[str, str | None, int, int]]:
    from headrace.server.db.models import TaskRun
    from headrace.server.domain.history import task_run_history

    with db.session(write=False) as s:
        row = s.get(TaskRun, task_run_id)
        assert row is not None
        return [
            (r.name, r.message, r.version, r.timestamp.second) for r in task_run_history(s, row)
        ]


def test_0004_moves_plain_children_into_their_rows(empty_url: str) -> None:
    db = Database(empty_url)
    try:
        _alembic(db, "upgrade", "0003_orchestration")
        with db.engine.begin() as conn:
            ids = _seed_0003(conn)
            before = {
                name: conn.execute(
                    sa.text(
                        "SELECT name, message, version, timestamp FROM states "
                        "WHERE task_run_id = :id ORDER BY id"
                    ),
                    {"id": ident},
                ).all()
                for name, ident in ids.items()
            }
        _alembic(db, "upgrade", "head")
        with db.engine.connect() as conn:
            rows = {
                r.id: r
                for r in conn.execute(
                    sa.text(
                        "SELECT id, start_time, end_time, run_count, history_in_row FROM task_runs"
                    )
                )
            }
            left = dict(
                conn.execute(
                    sa.text("SELECT task_run_id, count(*) FROM states GROUP BY task_run_id")
                ).all()
            )
        # only the plain child lost its history rows, into its own row
        assert [name for name, ident in ids.items() if rows[ident].history_in_row] == ["plain"]
        assert ids["plain"] not in left
        assert left[ids["retried"]] == 4 and left[ids["failed"]] == 2
        # the columns say what the history said
        assert rows[ids["retried"]].run_count == 2 and rows[ids["running"]].run_count == 1
        assert rows[ids["running"]].end_time is None
        assert rows[ids["failed"]].end_time is not None
        # every state reads back as before, whichever form it is stored in now
        for name, ident in ids.items():
            assert _history(db, ident) == [
                (n, m, v, (t if not isinstance(t, str) else _parse(t)).second)
                for n, m, v, t in before[name]
            ], name
        _alembic(db, "downgrade", "0003_orchestration")
        with db.engine.connect() as conn:
            restored = conn.execute(
                sa.text(
                    "SELECT name, message, version FROM states WHERE task_run_id = :id "
                    "ORDER BY version"
                ),
                {"id": ids["plain"]},
            ).all()
        assert [tuple(r) for r in restored] == [
            ("Running", "Starting task run.", 1),
            ("Success", "done", 2),
        ]
    finally:
        db.dispose()


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)
