"""One server per SQLite file: a second ``headrace server start`` on the same file refuses
to start, naming the file, the process serving it and PostgreSQL; it starts when told to
(``HEADRACE__SERVER__ALLOW_SHARED_SQLITE``) or once the first one stopped.

Real parts: ``headrace server start`` subprocesses on 127.0.0.1, a SQLite file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from tests.support.processes import free_port, stop_process, wait_for


def _server(db: Path, log: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "headrace", "server", "start"),
            *("--port", str(port), "--database", f"sqlite:///{db}"),
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HEADRACE__SERVER__RUN_SERVICES": "false", **env},
    )
    return process, f"http://127.0.0.1:{port}"


def _healthy(url: str) -> bool:
    return httpx.get(f"{url}/api/health", timeout=2).status_code == 200


def test_a_second_server_on_one_sqlite_file_is_refused_unless_allowed(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first, first_url = _server(db, tmp_path / "first.log")
    started: list[subprocess.Popen[bytes]] = [first]
    try:
        wait_for(lambda: _healthy(first_url), 60, "the first server", first)
        second, _ = _server(db, tmp_path / "second.log")
        started.append(second)
        assert second.wait(60) != 0
        text = (tmp_path / "second.log").read_text()
        assert f"{db} is already served by pid {first.pid}" in text, text
        assert "PostgreSQL" in text and "allow_shared_sqlite" in text

        allowed, allowed_url = _server(
            db, tmp_path / "allowed.log", HEADRACE__SERVER__ALLOW_SHARED_SQLITE="true"
        )
        started.append(allowed)
        wait_for(lambda: _healthy(allowed_url), 60, "the explicitly allowed server", allowed)
        stop_process(allowed)

        stop_process(first)
        after, after_url = _server(db, tmp_path / "after.log")
        started.append(after)
        wait_for(lambda: _healthy(after_url), 60, "a server after the first stopped", after)
    finally:
        for process in started:
            stop_process(process)
