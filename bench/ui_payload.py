"""Measure the web UI's data requests on a run with a 10,000-child mapped task.

Starts a real server (SQLite file in a temp dir, or ``--database URL``), registers a flow
whose middle task is mapped, creates a run and drives 10,000 children through Running to
Success/Failed with the batched report endpoint, writes 1,000 log lines, then times the
requests each UI page makes per refresh and prints their sizes:

    python bench/ui_payload.py [--children 10000] [--repeat 20] [--database URL]

For contrast it also times listing the same run's task runs through the plain API (what a
UI that draws one node per child would have to fetch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.server.conftest import flow_document  # noqa: E402
from tests.support.headrace_server import LiveServer  # noqa: E402
from tests.ui.reporting import mapped_run  # noqa: E402

from headrace.client import Client  # noqa: E402
from headrace.server.settings import ServerSettings  # noqa: E402


def timed(http: httpx.Client, url: str, repeat: int) -> tuple[float, float, int]:
    """Median and max milliseconds over ``repeat`` GETs, and the body size in bytes."""
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        answer = http.get(url)
        times.append((time.perf_counter() - start) * 1000)
        answer.raise_for_status()
        size = len(answer.content)
    return statistics.median(times), max(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", default=None, help="database URL (default: temp SQLite)")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="ui-bench-")
    url = args.database or f"sqlite:///{tmp}/headrace.db"
    server = LiveServer(ServerSettings.from_config(database_url=url, run_services=False)).start()
    try:
        with Client(server.url) as client:
            doc = flow_document("wide", tasks=("source", "fan", "sink"))
            for edge in doc["edges"]:
                edge["mapped"] = edge["downstream"] == "fan-1"
            project = client.create_project("bench", exist_ok=True)
            flow = client.register_document(doc, project_id=project["id"])
            run = client.create_flow_run(flow["id"])
            start = time.perf_counter()
            mapped_run(client, run["id"], "fan-1", args.children, failed_every=97)
            client.write_logs(
                [
                    {"flow_run_id": run["id"], "message": f"log line {i}", "level": 20}
                    for i in range(1000)
                ]
            )
            setup = time.perf_counter() - start
        base = f"{server.url}/api"
        rid = run["id"]
        with httpx.Client(timeout=120) as http:
            cursor = http.get(f"{base}/ui/flow_runs/{rid}").json()["log_cursor"]
            rows = [
                ("run page, first load (log tail)", f"{base}/ui/flow_runs/{rid}"),
                ("run page, live refresh", f"{base}/ui/flow_runs/{rid}?logs_after={cursor}"),
                ("mapped children page (50)", f"{base}/ui/flow_runs/{rid}/tasks/fan-1"),
                ("dashboard", f"{base}/ui/dashboard"),
                ("flows list", f"{base}/ui/flows"),
                ("flow runs list", f"{base}/ui/flow_runs"),
                (
                    "contrast: all task runs via plain API",
                    f"{base}/flow_runs/{rid}/task_runs?limit=10000",
                ),
            ]
            print(f"database: {url.split(':', 1)[0]}; {args.children} children; setup {setup:.1f}s")
            print(f"{'request':42} {'median ms':>10} {'max ms':>8} {'bytes':>10}")
            for name, target in rows:
                median, worst, size = timed(http, target, args.repeat)
                print(f"{name:42} {median:10.1f} {worst:8.1f} {size:10,d}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
