"""One server per SQLite file: a second one on the same file is refused at start.

SQLite is safe for one server process on a local disk; two servers on one file each run
the scheduler, the reaper and the retention service against it and contend for its single
writer lock (and on a network filesystem its locking cannot be trusted at all). So a
server takes an exclusive ``flock`` on ``<database>.server.lock`` while it runs (released
by the kernel when the process ends, however it ends) and a second server on the same file
fails to start with :class:`DatabaseInUseError`, naming the file, the process holding it
and PostgreSQL as the database for several servers. ``server.allow_shared_sqlite = true``
skips the check. Apps of one process share the lock (tests, ``headrace up``).
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from pathlib import Path
from typing import IO

from headrace.server.errors import DatabaseInUseError

__all__ = ["ServerLock", "lock_path"]

_GUARD = threading.Lock()
_HELD: dict[str, tuple[IO[str], int]] = {}  # lock file -> (open file, apps using it)


def lock_path(database_file: str) -> Path:
    """The lock file of the SQLite database at ``database_file``."""
    return (
        Path(database_file)
        .expanduser()
        .absolute()
        .with_name(Path(database_file).name + ".server.lock")
    )


class ServerLock:
    """The exclusive lock of one SQLite database file, held while a server serves it."""

    def __init__(self, database_file: str) -> None:
        self.database_file = database_file
        self.path = lock_path(database_file)
        self.held = False

    def acquire(self) -> ServerLock:
        key = str(self.path)
        with _GUARD:
            held = _HELD.get(key)
            if held is not None:  # another app of this process: it is the same server
                _HELD[key] = (held[0], held[1] + 1)
                self.held = True
                return self
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+")  # noqa: SIM115 - kept open while the lock is held
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise DatabaseInUseError(
                    f"the SQLite database {self.database_file} is already served by {holder} "
                    f"(lock file {self.path}). SQLite is for one server on a local disk; run "
                    "several servers on PostgreSQL (server.database_url = "
                    "'postgresql+psycopg://...'), or set server.allow_shared_sqlite = true "
                    "(HEADRACE__SERVER__ALLOW_SHARED_SQLITE) if you know better",
                    field="database_url",
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
            handle.flush()
            _HELD[key] = (handle, 1)
            self.held = True
            return self

    def release(self) -> None:
        if not self.held:
            return
        key = str(self.path)
        with _GUARD:
            handle, users = _HELD[key]
            if users > 1:
                _HELD[key] = (handle, users - 1)
            else:
                del _HELD[key]
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                handle.close()
        self.held = False
