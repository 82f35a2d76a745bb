"""A real PostgreSQL 15 server for tests, started once per session and stopped by PID.

``initdb`` refuses to run as root, so the data directory belongs to the ``postgres`` user
and every PostgreSQL binary runs as that user (via ``runuser`` when we are root). The server
listens on 127.0.0.1 on a free port with a private socket directory and ``fsync=off``;
``trust`` authentication is enough on loopback for a throwaway cluster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PG_BIN", "PostgresServer", "postgres_available", "start_postgres"]

PG_BIN = Path(os.environ.get("HEADRACE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def postgres_available() -> tuple[bool, str]:
    """Whether a PostgreSQL server and the psycopg driver can be used here, and why not."""
    if not (PG_BIN / "initdb").exists():
        return False, f"no initdb under {PG_BIN}"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False, "psycopg is not installed"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return False, "no 'postgres' user to run initdb as"
    return True, ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class PostgresServer:
    """A running throwaway cluster: where it listens and how to stop it."""

    port: int
    root: Path
    pid: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)  # "fast" shutdown
        for _ in range(100):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb a fresh cluster in a temporary directory and start it on a free port."""
    root = Path(tempfile.mkdtemp(prefix="headrace-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    subprocess.run(
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"]),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    return PostgresServer(port=port, root=root, pid=pid)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
