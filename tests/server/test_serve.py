"""``headrace.server.serve`` in its own process, as ``headrace server start`` runs it:
migrations on startup, the API on the port, and the background services running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from tests.server.conftest import flow_document
from tests.support.headrace_server import free_port

from headrace.client import Client
from headrace.schedules import IntervalSchedule


def _wait_until(check, timeout: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early ({proc.returncode}) while waiting: {what}")
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_runs_migrations_api_and_services(tmp_path: Path) -> None:
    port = free_port()
    url = f"sqlite:///{tmp_path / 'deep' / 'served.db'}"
    env = dict(os.environ, HEADRACE__SERVER__SERVICES_INTERVAL="0.2")
    code = f"from headrace.server import serve; serve('127.0.0.1', {port}, {url!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)
    api = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{api}/api/health").status_code == 200
        except httpx.TransportError:
            return False

    try:
        _wait_until(up, 60, "the server to answer /api/health", proc)
        assert (tmp_path / "deep" / "served.db").exists()
        with Client(api, retries=0) as client:
            project = client.create_project("p")
            start = datetime.now(UTC) - timedelta(minutes=1)
            every = IntervalSchedule(start_date=start, interval=timedelta(minutes=5)).serialize()
            flow = client.register_document(flow_document(schedule=every), project_id=project["id"])
            _wait_until(
                lambda: len(client.get_flow_runs(flow_id=flow["id"])) > 0,
                60,
                "the scheduler service to create runs",
                proc,
            )
            runs = client.get_flow_runs(flow_id=flow["id"])
            assert all(r["auto_scheduled"] for r in runs)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
