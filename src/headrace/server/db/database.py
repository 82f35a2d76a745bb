"""The database connection: SQLite (WAL, busy timeout, ``BEGIN IMMEDIATE`` for writes) or
PostgreSQL, with short transactions opened by :meth:`Database.session`.

SQLite allows one writer at a time. A transaction that starts as a reader and later writes
can fail at once with "database is locked" when another writer got in first, whatever the
busy timeout; so every write transaction starts with ``BEGIN IMMEDIATE`` (it takes the write
lock up front and waits politely), while read-only ones use a plain deferred ``BEGIN`` and
run concurrently with writers under WAL. The server checkpoints the log from a background
thread (``checkpoint_interval``, see :mod:`headrace.server.db.wal`), not inside commits.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from headrace.server.db.wal import BACKSTOP_PAGES, JOURNAL_SIZE_LIMIT, WalCheckpointer

__all__ = ["Database", "migrate", "rowcount"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class Database:
    """An engine plus read and write session factories for one database URL."""

    def __init__(
        self, url: str, *, busy_timeout: float = 30.0, checkpoint_interval: float = 0.0
    ) -> None:
        self.url = url
        self.engine = _create_engine(url, busy_timeout, checkpoint_interval > 0)
        self.checkpointer: WalCheckpointer | None = None
        path = sa.engine.make_url(url).database if url.startswith("sqlite") else None
        if checkpoint_interval > 0 and path and path != ":memory:":
            self.checkpointer = WalCheckpointer(str(Path(path).expanduser()), checkpoint_interval)
        self.dialect = self.engine.dialect.name
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @functools.cached_property
    def readers_never_wait(self) -> bool:
        """Whether a read never waits for a writer: SQLite in WAL mode (asked of SQLite
        once: a file system without WAL support leaves it in rollback-journal mode, where
        readers wait for writers). PostgreSQL readers do not wait either, but their
        answers travel over a socket: False."""
        if not self.is_sqlite:
            return False
        with self.engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        return str(mode).lower() == "wal"

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        factory = self._write if write else self._read
        with factory() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A connection for reads outside the ORM (the list routes): cheaper than a
        session; its transaction (on SQLite a deferred BEGIN, which takes no lock) is
        rolled back when the block ends."""
        with self.engine.connect() as conn:
            yield conn

    def ping(self) -> None:
        """Ask the database for ``SELECT 1`` in a read transaction (the health check)."""
        with self.session(write=False) as session:
            session.execute(sa.text("SELECT 1"))

    def migrate(self) -> None:
        """Bring the schema up to date (idempotent)."""
        migrate(self)

    def start_checkpoints(self) -> None:
        """Checkpoint a SQLite file's log in the background (see :mod:`headrace.server.db.wal`)."""
        if self.checkpointer is not None:
            self.checkpointer.start()

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()


def _create_engine(url: str, busy_timeout: float, background_checkpoints: bool) -> sa.Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_timeout}
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, see below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if background_checkpoints:  # commits checkpoint only if the checkpointer lags far
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def migrate(db: Database) -> None:
    """Run the Alembic migrations shipped in ``headrace/server/db/migrations`` up to head."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    # One migrator at a time when several server processes start together: an advisory
    # lock on PostgreSQL, the write lock (BEGIN IMMEDIATE) on SQLite.
    with db.engine.execution_options(sqlite_immediate=True).begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE/DELETE/INSERT result (typed access for mypy)."""
    return int(getattr(result, "rowcount", 0) or 0)
