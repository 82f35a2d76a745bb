"""SQLite's write-ahead log is checkpointed by a background thread, not inside commits."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from tests.support.headrace_server import LiveServer

from headrace.server.db.database import Database
from headrace.server.db.wal import BACKSTOP_PAGES
from headrace.server.settings import ServerSettings


def _write_rows(db: Database, n: int) -> None:
    with db.session() as s:
        s.execute(sa.text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"))
        s.execute(sa.text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 200}] * n)


def _autocheckpoint(db: Database) -> int:
    with db.session(write=False) as s:
        return int(s.execute(sa.text("PRAGMA wal_autocheckpoint")).scalar_one())


def test_commits_leave_checkpoints_to_the_background(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}", checkpoint_interval=3600)
    try:
        assert _autocheckpoint(db) == BACKSTOP_PAGES
        _write_rows(db, 5000)  # ~1 MB: past SQLite's default 1000-page automatic checkpoint
        assert db.checkpointer is not None
        busy, frames, done = db.checkpointer.checkpoint()
        assert busy == 0 and frames > 250 and done == frames  # the commit had not done it
        _write_rows(db, 10)  # the log restarts from its beginning once checkpointed
        assert db.checkpointer.checkpoint()[1] < frames
    finally:
        db.dispose()


def test_without_an_interval_sqlite_checkpoints_in_commits(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        assert db.checkpointer is None
        assert _autocheckpoint(db) == 1000  # SQLite's default
    finally:
        db.dispose()


def test_the_server_checkpoints_in_the_background(tmp_path: Path) -> None:
    settings = ServerSettings(
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        run_services=False,
        sqlite_checkpoint_interval=0.05,
    )
    server = LiveServer(settings).start()
    try:
        checkpointer = server.db.checkpointer
        assert checkpointer is not None
        deadline = time.monotonic() + 30
        while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.checkpoints >= 2
    finally:
        server.stop()
    assert not checkpointer._thread.is_alive()  # stopped with the app
