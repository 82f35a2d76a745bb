"""Where read routes do their database work (:mod:`headrace.server.http.reads`) and how
many request handlers run at once."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import anyio.to_thread

from headrace.server.db.database import Database
from headrace.server.http.app import create_app
from headrace.server.http.reads import run_read


def _thread_of(db: Database, cheap: bool) -> str:
    async def main() -> str:
        return await run_read(db, cheap, lambda: threading.current_thread().name)

    return anyio.run(main)


def test_a_cheap_sqlite_read_runs_on_the_loop_and_everything_else_in_a_thread(
    tmp_path: Path,
) -> None:
    here = threading.current_thread().name
    sqlite = Database(f"sqlite:///{tmp_path / 'h.db'}")
    # no connection is made: only the URL's kind decides (a PostgreSQL answer travels over
    # a socket, which the loop must not wait on)
    postgres = Database("postgresql+psycopg://nobody@127.0.0.1:9/none")
    # a SQLite database without WAL (in memory here; a file system without WAL support
    # does the same): its readers may wait for a writer, so not on the loop
    journal = Database("sqlite://")
    try:
        assert _thread_of(sqlite, cheap=True) == here
        assert _thread_of(sqlite, cheap=False) != here
        assert _thread_of(postgres, cheap=True) != here
        assert not journal.readers_never_wait
        assert _thread_of(journal, cheap=True) != here
    finally:
        sqlite.dispose()
        postgres.dispose()
        journal.dispose()


def test_the_server_runs_at_most_request_threads_handlers_at_once(tmp_path: Path) -> None:
    app = create_app(
        database_url=f"sqlite:///{tmp_path / 'h.db'}", run_services=False, request_threads=3
    )

    async def main() -> int:
        # the server's startup, in this event loop: the limit is the loop's
        async with app.router.lifespan_context(app):
            return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert anyio.run(main) == 3
