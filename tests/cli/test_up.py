"""``headrace up`` as a user runs it: one subprocess serving the API on a fresh SQLite home,
with a local agent running the example flows; SIGINT stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import httpx
from tests.agent.backend_support import wait_for
from tests.support.headrace_server import free_port

from headrace.client import Client


def _start_up(
    tmp_path: Path, port: int, extra_env: dict[str, str], *options: str
) -> tuple[subprocess.Popen[bytes], IO[str]]:
    """``headrace up`` in a subprocess on a fresh home under ``tmp_path``; its output goes
    to ``tmp_path/up.log`` (the returned file)."""
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HEADRACE__HOME_DIR": str(home),
        "HEADRACE__FLOWS__RESULTS_DIR": str(home / "results"),
        "HEADRACE__AGENT__POLL_INTERVAL": "0.2",
        "HEADRACE__CLOUD__REPORT_INTERVAL": "0.2",
        **extra_env,
    }
    log = (tmp_path / "up.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "headrace", "up", *options, "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, log


def test_up_serves_runs_examples_and_stops_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "home"
    process, log = _start_up(tmp_path, port, {"HEADRACE__LOGGING__LEVEL": "INFO"})
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


def test_up_stops_its_runs_in_flight_before_the_server_on_sigterm(tmp_path: Path) -> None:
    """SIGTERM while a run is blocked: the run ends Failed (agent stopped) with its on_exit
    run, reported to the still-serving server, then everything exits 0."""
    from tests.agent.backend_support import register_script
    from tests.server.conftest import make_settings
    from tests.support.headrace_server import LiveServer

    port = free_port()
    markers = tmp_path / "markers"
    extra = {"HEADRACE__AGENT__STOP_GRACE_PERIOD": "60", "HEADRACE_TEST_MARKERS": str(markers)}
    process, log = _start_up(tmp_path, port, extra, "--no-examples")
    url = f"http://127.0.0.1:{port}"
    flows = Path(__file__).parents[1] / "agent" / "flows"
    try:
        wait_for(lambda: "local agent polling" in Path(log.name).read_text(), 60, "up to start")
        with Client(url) as client:
            run = client.create_flow_run(register_script(client, flows / "stoppable.py"))
        blocked = markers / "blocked"
        pid = int(wait_for(lambda: blocked.exists() and blocked.read_text(), 60, "the block"))
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = Path(log.name).read_text()
    assert code == 0, output
    assert "headrace stopped" in output
    assert (markers / "on_exit").read_text().strip() == str(pid)
    home = tmp_path / "home"
    server = LiveServer(make_settings(f"sqlite:///{home / 'headrace.db'}")).start()
    try:
        with Client(server.url) as client:
            final = client.get_flow_run(run["id"])
            tasks = {t["task_name"]: t["state"] for t in client.get_task_runs(run["id"])}
    finally:
        server.stop()
    assert final["state"] == "Failed", final
    assert "its agent stopped" in final["state_message"]
    assert tasks == {"first": "Success", "blocker": "Cancelled", "after": "Cancelled"}
