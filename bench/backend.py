"""Benchmarks of the orchestration backend (server + agent + backend runner).

1. Flow runs per second through a server and a local agent, for a no-op flow: N runs are
   created at once, one LocalAgent (in this process) claims and starts them as
   subprocesses, the clock stops when the server shows all of them Success.
2. A 10,000-child mapped flow run by plain ``flow.run()`` and by the backend runner
   (reporting every state and log to the server in batches, and checkpointing results as it
   does by default), in the same invocation, best of ``--repeat`` rounds (the machine is
   shared and noisy); the ratio is the backend's overhead (target: under 2x). The run with
   checkpointing off isolates the cost of reporting. Each backend run is checked: Success,
   every child Success, and every child's Running and Success in the state history.

The server runs in its own process (``headrace server start``) on a fresh SQLite file, as
in production, or on PostgreSQL. Usage::

    python bench/backend.py                 # 20 no-op runs, map of 10,000
    python bench/backend.py --runs 10 --children 2000   # quicker
    python bench/backend.py --database postgres          # a throwaway PostgreSQL 15 cluster
    python bench/backend.py --database postgresql+psycopg://user@host/db --runs 0
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

NOOP = """
from headrace import Flow, task

@task
def nothing():
    return None

with Flow("bench-noop") as flow:
    nothing()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, database_url: str = "") -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "HEADRACE__HOME_DIR": str(home), "HEADRACE__LOGGING__LEVEL": "WARNING"}
    if database_url:
        env["HEADRACE__SERVER__DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "headrace", "server", "start", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(home / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start; see {home / 'server.log'}")


def bench_runs_per_second(client, home: Path, runs: int) -> float:  # type: ignore[no-untyped-def]
    from headrace.agent import LocalAgent
    from headrace.cli.flowfile import flows_in_file
    from headrace.storage import Local

    script = home / "noop.py"
    script.write_text(NOOP)
    (flow,) = flows_in_file(str(script))
    flow.storage = Local(stored_as_script=True, path=str(script))
    flow_id = client.register(flow, project_name="bench")
    env = {
        "HEADRACE__HOME_DIR": str(home),
        "HEADRACE__FLOWS__RESULTS_DIR": str(home / "results"),
        "HEADRACE__LOGGING__LEVEL": "WARNING",
        "HEADRACE__CLOUD__REPORT_INTERVAL": "0.1",
    }
    agent = LocalAgent(client=client, labels=[], poll_interval=0.05, max_concurrent_runs=4, env=env)
    start = time.perf_counter()
    ids = {client.create_flow_run(flow_id)["id"] for _ in range(runs)}
    agent.start()
    try:
        while True:
            done = client.get_flow_runs(flow_id=flow_id, state=["Success", "Failed"], limit=1000)
            if len(done) == runs:
                break
            time.sleep(0.05)
    finally:
        agent.stop()
    elapsed = time.perf_counter() - start
    failed = [r["id"] for r in done if r["state"] != "Success"]
    assert not failed and {r["id"] for r in done} == ids, failed
    return runs / elapsed


def map_flow(children: int):  # type: ignore[no-untyped-def]
    from headrace import Flow, task

    @task
    def numbers(n: int) -> list[int]:
        return list(range(n))

    @task
    def inc(x: int) -> int:
        return x + 1

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    with Flow("bench-map") as flow:
        total(inc.map(numbers(children)))
    return flow


def history_size(client, run_id: str) -> int:  # type: ignore[no-untyped-def]
    """How many state changes (flow run's and task runs') the server recorded for a run."""
    total, offset = 0, 0
    while True:
        page = client.request(
            "GET",
            f"/flow_runs/{run_id}/states",
            params={"task_runs": True, "limit": 10000, "offset": offset},
        )
        total += len(page)
        if len(page) < 10000:
            return total
        offset += len(page)


def bench_map(client, children: int, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Best of ``repeat`` rounds of: plain, backend with checkpoints, backend without."""
    from headrace.client.backend import BackendFlowRunner
    from headrace.configuration import config

    flow = map_flow(children)
    flow_id = client.register(flow, project_name="bench", build=False)
    times: dict[str, float] = {}

    def keep(label: str, seconds: float) -> None:
        times[label] = min(times.get(label, seconds), seconds)

    for _ in range(repeat):
        gc.collect()  # each timed run starts from the same heap, not the last run's garbage
        start = time.perf_counter()
        state = flow.run()
        keep("plain flow.run()", time.perf_counter() - start)
        assert state.is_successful()
        for label, checkpointing in (
            ("backend runner", True),
            ("backend runner, no checkpoints", False),
        ):
            config.cloud["checkpointing"] = checkpointing
            run = client.create_flow_run(flow_id)
            finished: list[float] = []

            def flow_done(_flow, _old, new, finished=finished):  # type: ignore[no-untyped-def]
                if new.is_finished():
                    finished.append(time.perf_counter())

            runner = BackendFlowRunner(
                flow, flow_run_id=run["id"], client=client, flow_listeners=(flow_done,)
            )
            state = None
            gc.collect()
            start = time.perf_counter()
            state = runner.run()
            end = time.perf_counter()
            if label + " flow" not in times or end - start < times[label]:
                times[label + " flow"] = finished[0] - start  # the flow, before the last flush
            keep(label, end - start)
            assert state.is_successful()
            final = client.get_flow_run(run["id"])
            assert final["state"] == "Success"
            assert final["task_run_counts"].get("Success", 0) >= children
            # every child's Running and Success are in the history, plus the other tasks'
            assert history_size(client, run["id"]) >= 2 * children + 4
            assert runner.reporter is not None
            times[label + " requests"] = runner.reporter.requests_sent
    config.cloud["checkpointing"] = True
    return times


def sqlite_floor(children: int, repeat: int = 3) -> float:
    """What SQLite alone takes to store a map's children as the server must (one task-run
    row per child, a history row per Running and per Success) in the server's own schema
    and indexes: prepared tuples, one ``executemany`` per table, one commit. Best of
    ``repeat``. No HTTP, no JSON, no Python per row: the floor under any server in Python."""
    import sqlite3
    import uuid

    from headrace.server.db import Database

    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="headrace-floor-") as tmp:
            path = Path(tmp) / "floor.db"
            db = Database(f"sqlite:///{path}")
            db.migrate()
            run = _floor_flow_run(db)
            conn = sqlite3.connect(path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                conn.execute(f"PRAGMA {pragma}")
            stamp = "2026-01-01 00:00:00.000000"
            ids = [str(uuid.uuid4()) for _ in range(children)]
            task_runs = [
                (ident, run, "inc-1", "inc", i, "[]", "Success", None, None, stamp, 2, stamp)
                for i, ident in enumerate(ids)
            ]
            history = [
                (run, ident, name, None, None, stamp, version)
                for ident in ids
                for name, version in (("Running", 1), ("Success", 2))
            ]
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO task_runs (id, flow_run_id, task_slug, task_name, map_index, tags, "
                "state, state_message, state_serialized, state_timestamp, version, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                task_runs,
            )
            conn.executemany(
                "INSERT INTO states (flow_run_id, task_run_id, name, message, serialized, "
                "timestamp, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                history,
            )
            conn.execute("COMMIT")
            best = min(best, time.perf_counter() - start)
            conn.close()
            db.dispose()
    return best


def _floor_flow_run(db) -> str:  # type: ignore[no-untyped-def]
    """A flow run (and its project, group and flow) for the floor's rows to belong to."""
    from headrace.server import models as m

    with db.session() as s:
        project = m.Project(name="floor")
        s.add(project)
        s.flush()
        group = m.FlowGroup(project_id=project.id, name="floor")
        s.add(group)
        s.flush()
        flow = m.Flow(
            flow_group_id=group.id,
            project_id=project.id,
            name="floor",
            version=1,
            serialized_hash="-",
            document={},
        )
        s.add(flow)
        s.flush()
        run = m.FlowRun(
            flow_id=flow.id,
            flow_group_id=group.id,
            project_id=project.id,
            name="floor",
            state="Running",
        )
        s.add(run)
        s.flush()
        return str(run.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="no-op flow runs (default 20)")
    parser.add_argument("--children", type=int, default=10_000, help="mapped children")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of the map benchmark; best kept"
    )
    parser.add_argument(
        "--database",
        default="sqlite",
        help="sqlite (default), postgres (a throwaway local cluster) or a database URL",
    )
    args = parser.parse_args()

    from headrace.client import Client
    from headrace.configuration import config

    home = Path(tempfile.mkdtemp(prefix="headrace-bench-"))
    config["home_dir"] = str(home)
    config.flows["results_dir"] = str(home / "results")
    postgres = None
    database_url, database = "", "SQLite"
    if args.database == "postgres":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.support.postgres import postgres_available, start_postgres

        available, why = postgres_available()
        if not available:
            raise SystemExit(f"no PostgreSQL here: {why}")
        postgres = start_postgres()
        database_url, database = postgres.url(), "PostgreSQL (throwaway local cluster)"
    elif args.database != "sqlite":
        database_url, database = args.database, "PostgreSQL"
    try:
        server, url = start_server(home, database_url)
        try:
            with Client(url) as client:
                rate = bench_runs_per_second(client, home, args.runs) if args.runs else None
                times = bench_map(client, args.children, args.repeat)
        finally:
            server.terminate()
            server.wait(30)
    finally:
        if postgres is not None:
            postgres.stop()
    plain = times["plain flow.run()"]
    print(f"server: {url} on {database}; {os.cpu_count()} CPU(s)")
    if rate is not None:
        print(f"no-op flow runs through server + local agent: {rate:.2f} runs/s ({args.runs} runs)")
    print(f"map of {args.children:,} children (best of {args.repeat}):")
    for label in ("plain flow.run()", "backend runner", "backend runner, no checkpoints"):
        extra = ""
        if label != "plain flow.run()":
            flow_part = times[label + " flow"]
            per_child = (times[label] - plain) / args.children * 1e6
            extra = (
                f"  {times[label] / plain:.2f}x plain, +{per_child:.0f} us a child, "
                f"{int(times[label + ' requests'])} requests"
                f" (flow done at {flow_part:.2f} s = {flow_part / plain:.2f}x plain; the rest is"
                " the server catching up)"
            )
        print(f"  {label:<32} {times[label]:7.2f} s{extra}")
    if database == "SQLite":
        floor = sqlite_floor(args.children)
        print(
            f"  {'floor: SQLite inserts alone':<32} {floor:7.2f} s  {floor / plain:.2f}x plain "
            f"({args.children:,} task-run rows + {2 * args.children:,} history rows, prepared "
            "tuples, one executemany each, in the server's schema)"
        )


if __name__ == "__main__":
    main()
