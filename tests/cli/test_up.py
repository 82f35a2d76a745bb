"""``headrace up`` as a user runs it: one subprocess serving the API on a fresh SQLite home,
with a local agent running the example flows; SIGINT stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from tests.agent.backend_support import wait_for
from tests.support.headrace_server import free_port

from headrace.client import Client


def test_up_serves_runs_examples_and_stops_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HEADRACE__HOME_DIR": str(home),
        "HEADRACE__FLOWS__RESULTS_DIR": str(home / "results"),
        "HEADRACE__AGENT__POLL_INTERVAL": "0.2",
        "HEADRACE__CLOUD__REPORT_INTERVAL": "0.2",
        "HEADRACE__LOGGING__LEVEL": "INFO",
    }
    log = (tmp_path / "up.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "headrace", "up", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
            except httpx.TransportError:
                assert process.poll() is None, Path(log.name).read_text()
                return False

        wait_for(healthy, 60, "headrace up to serve /api/health")
        with Client(url) as client:
            wanted = {"etl", "mapped-squares", "scheduled-heartbeat"}
            flows = wait_for(
                lambda: (fs := client.get_flows()) and wanted <= {f["name"] for f in fs} and fs,
                30,
                "the example flows to be registered",
            )
            etl = next(f for f in flows if f["name"] == "etl")
            scheduled = next(f for f in flows if f["name"] == "scheduled-heartbeat")
            assert scheduled["schedule"] is not None

            def etl_finished() -> dict | None:
                runs = client.get_flow_runs(flow_id=etl["id"])
                done = [r for r in runs if r["state"] in ("Success", "Failed")]
                return done[0] if done else None

            run = wait_for(etl_finished, 90, "the etl example run to finish")
            assert run["state"] == "Success", run["state_message"]
            assert (home / "headrace.db").exists()
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = Path(log.name).read_text()
    assert code == 0, output
    assert f"headrace is up: API {url}/api" in output
    assert "headrace stopped" in output
    assert "Traceback" not in output
