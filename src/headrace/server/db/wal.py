"""SQLite's write-ahead-log checkpoints, moved off the request path.

In WAL mode SQLite copies the log back into the database file (a *checkpoint*, with an
``fsync``) inside whichever commit pushes the log past ``wal_autocheckpoint`` pages. For a
runner's report of thousands of task runs that commit is then tens of milliseconds longer
than its own work. The server instead checkpoints from a background thread on a connection
of its own (``PASSIVE``: it never waits for or blocks readers and writers), every
``server.sqlite_checkpoint_interval`` seconds, and request connections only checkpoint
themselves past a high backstop (:data:`BACKSTOP_PAGES`) if that thread falls behind.
``journal_size_limit`` keeps the log file from staying large after a burst.
"""

from __future__ import annotations

import sqlite3
import threading

from headrace.utilities.logging import get_logger

__all__ = ["BACKSTOP_PAGES", "JOURNAL_SIZE_LIMIT", "WalCheckpointer"]

logger = get_logger("server.wal")
BACKSTOP_PAGES = 25_000  # ~100 MB of log at 4 KiB pages before a commit checkpoints itself
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


class WalCheckpointer:
    """Checkpoints the SQLite database file at ``path`` every ``interval`` seconds."""

    def __init__(self, path: str, interval: float) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="headrace-wal-checkpoint", daemon=True
        )

    def checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint: ``(busy, log frames, frames checkpointed)``."""
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=1.0)
        try:
            row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            connection.close()
        self.checkpoints += 1
        return int(row[0]), int(row[1]), int(row[2])

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread after one last checkpoint (the log is folded in at shutdown)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _loop(self) -> None:
        while True:
            stopping = self._stop.wait(self.interval)
            try:
                self.checkpoint()
            except sqlite3.Error as exc:  # busy or locked now: the next round tries again
                logger.debug("WAL checkpoint of %s skipped: %s", self.path, exc)
            if stopping:
                return
