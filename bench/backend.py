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
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def bench_runs_per_second(client, home: Path, runs: int, server_pid: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """No-op runs through this server and one ``LocalAgent`` as ``headrace agent local
    start`` runs it (warm launcher, long-polled claims, 4 runs at a time), ready before the
    clock starts: ``runs`` created at once (runs/s), then 10 one by one (create -> Running).
    The same measurement as ``bench/launch.py``'s warm mode."""
    from headrace.cli.flowfile import flows_in_file
    from headrace.storage import Local

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from launch import bench_mode

    script = home / "noop.py"
    script.write_text(NOOP)
    (flow,) = flows_in_file(str(script))
    flow.storage = Local(stored_as_script=True, path=str(script))
    flow_id = client.register(flow, project_name="bench")
    return bench_mode(client, flow_id, "warm", home, runs, 10, 4, server_pid)


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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_map(client, children: int, repeat: int, server_pid: int = 0) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Best of ``repeat`` rounds of: plain, backend with checkpoints, backend without (and
    the least server CPU time each backend run took, when ``server_pid`` is given: the
    figure a loaded machine does not blur)."""
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
            server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
            start = time.perf_counter()
            state = runner.run()
            end = time.perf_counter()
            if server_pid:
                used = cpu_seconds(server_pid) - server_cpu
                times[label + " server cpu"] = min(times.get(label + " server cpu", used), used)
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


def rss_mib(pid: int) -> float:
    """A process's resident set size now, in MiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def bench_memory(client, server_pid: int, runs: int, children: int) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    """The server's RSS after the first of ``runs`` backend runs of a ``children``-child
    map and after every tenth (and the last): ``[(runs done, MiB)]``. Checkpoints off (the
    server's side is the same; the runs are quicker)."""
    from headrace.client.backend import BackendFlowRunner
    from headrace.configuration import config

    flow = map_flow(children)
    flow_id = client.register(flow, project_name="bench-memory", build=False)
    config.cloud["checkpointing"] = False
    seen = []
    try:
        for i in range(1, runs + 1):
            run = client.create_flow_run(flow_id)
            state = BackendFlowRunner(flow, flow_run_id=run["id"], client=client).run()
            assert state.is_successful()
            if i == 1 or i % 10 == 0 or i == runs:
                seen.append((i, rss_mib(server_pid)))
                print(f"  memory: after run {i}: server RSS {seen[-1][1]:.1f} MiB", flush=True)
    finally:
        config.cloud["checkpointing"] = True
    return seen


def sqlite_floor(children: int, repeat: int = 3, history: bool = True) -> float:
    """What SQLite alone takes to store a map's children in the server's own schema and
    indexes: one task-run row per child and (``history``, as before issue 16's columnar
    rows) a history row per Running and per Success, or (not ``history``, as the server
    stores a plain child now) the row alone with its start, end and attempt count; prepared
    tuples, one ``executemany`` per table, one commit. Best of ``repeat``. No HTTP, no
    JSON, no Python per row: the floor under any server in Python."""
    import sqlite3
    import uuid

    from headrace.server.db.database import Database

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
                + (() if history else (stamp, stamp, 1))
                for i, ident in enumerate(ids)
            ]
            history_rows = [
                (run, ident, name, None, None, stamp, version)
                for ident in ids
                for name, version in (("Running", 1), ("Success", 2))
            ]
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            columns = (
                "id, flow_run_id, task_slug, task_name, map_index, tags, state, state_message, "
                "state_serialized, state_timestamp, version, created"
            )
            if not history:
                columns += ", start_time, end_time, run_count"
            marks = ", ".join("?" * len(task_runs[0]))
            conn.executemany(f"INSERT INTO task_runs ({columns}) VALUES ({marks})", task_runs)
            if history:
                conn.executemany(
                    "INSERT INTO states (flow_run_id, task_run_id, name, message, serialized, "
                    "timestamp, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    history_rows,
                )
            conn.execute("COMMIT")
            best = min(best, time.perf_counter() - start)
            conn.close()
            db.dispose()
    return best


def postgres_floor(database_url: str, children: int, repeat: int = 3) -> float:
    """What PostgreSQL alone takes to store a map's children as the server stores a plain
    child: one task-run row each, streamed by one ``COPY`` from prepared tuples (times as
    text), one commit, into the server's own database. Best of ``repeat``."""
    import uuid

    import psycopg

    from headrace.server.db.database import Database

    db = Database(database_url)
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    columns = (
        "id, flow_run_id, task_slug, task_name, map_index, tags, state, state_message, "
        "state_serialized, state_timestamp, version, created, start_time, end_time, run_count, "
        "history_in_row"
    )
    best = float("inf")
    try:
        for i in range(repeat):
            run = _floor_flow_run(db, name=f"floor-{i}")
            stamp = "2026-01-01 00:00:00.000000+00"
            tail = ("Task run succeeded.", None, stamp, 2, stamp, stamp, stamp, 1, True)
            rows = [
                (str(uuid.uuid4()), run, "inc-1", "inc", k, "[]", "Success", *tail)
                for k in range(children)
            ]
            with psycopg.connect(url) as conn:
                start = time.perf_counter()
                with (
                    conn.cursor() as cursor,
                    cursor.copy(f"COPY task_runs ({columns}) FROM STDIN") as stream,
                ):
                    for row in rows:
                        stream.write_row(row)
                conn.commit()
                best = min(best, time.perf_counter() - start)
    finally:
        db.dispose()
    return best


def _floor_flow_run(db, name: str = "floor") -> str:  # type: ignore[no-untyped-def]
    """A flow run (and its project, group and flow) for the floor's rows to belong to."""
    from headrace.server.db import models as m

    with db.session() as s:
        project = m.Project(name=name)
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


def seed_lists(
    database_url: str, flow_runs: int, task_runs: int, logs: int
) -> tuple[float, list[str]]:
    """Fill a database for the list routes: ``flow_runs`` flow runs (scheduled over the last
    days, in mixed states), ``task_runs`` mapped children spread over 100 of them
    (``task_runs / 100`` each; plain children, their history in their rows) and ``logs``
    log lines over the same 100 runs. Bulk SQL (Core ``executemany`` in chunks, COPY-like
    multi-row inserts on PostgreSQL), no ORM objects. Returns the seconds it took and the
    ids of the runs with children."""
    import random
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from headrace.server.db import models as m
    from headrace.server.db.database import Database
    from headrace.server.domain.task_batch import fast_id

    start = time.perf_counter()
    db = Database(database_url)
    db.migrate()
    first = _floor_flow_run(db, name=f"lists-{os.getpid()}")
    with db.session(write=False) as s:
        proto = s.get(m.FlowRun, first)
        assert proto is not None
        flow_id, group_id, project_id = proto.flow_id, proto.flow_group_id, proto.project_id
    now = datetime.now(UTC)
    states = ["Success"] * 8 + ["Failed", "Cancelled"]
    big = min(100, flow_runs)
    per_run = task_runs // big if big else 0
    big_runs: list[str] = []
    chunk = 20_000

    sqlite = db.is_sqlite

    def insert(table: Any, rows: list[dict[str, Any]]) -> None:
        if not sqlite:  # PostgreSQL: Core executemany (multi-row INSERTs by the driver)
            with db.engine.begin() as conn:
                conn.execute(sa.insert(table), rows)
            return
        # SQLite: the driver's executemany on prepared tuples (timestamps as SQLite stores
        # them, JSON as text), a big page cache and no fsync while seeding
        names = list(rows[0])
        times = {n for n in names if isinstance(table.c[n].type, m.UTCDateTime)}
        jsons = {n for n in names if isinstance(table.c[n].type, sa.JSON)}
        stamp = {}

        def value(name: str, v: Any) -> Any:
            if v is None:
                return None
            if name in times:
                key = id(v)
                if key not in stamp:
                    stamp[key] = v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                return stamp[key]
            if name in jsons:
                return json.dumps(v)
            return v

        tuples = [tuple(value(n, r[n]) for n in names) for r in rows]
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        )
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA cache_size=-262144")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("BEGIN")
            cursor.executemany(sql, tuples)
            cursor.execute("COMMIT")
        finally:
            raw.close()

    rows: list[dict[str, Any]] = []
    for i in range(flow_runs):
        ident = fast_id()
        if i < big:
            big_runs.append(ident)
        when = now - timedelta(seconds=5 * i)
        rows.append(
            {
                "id": ident, "flow_id": flow_id, "flow_group_id": group_id,
                "project_id": project_id, "name": f"run-{i}", "parameters": {}, "labels": [],
                "run_config": None, "idempotency_key": None, "auto_scheduled": False,
                "scheduled_start": when, "state": random.choice(states),
                "state_message": None, "state_serialized": None, "state_timestamp": when,
                "version": 4, "max_retries": 0, "run_count": 1, "agent_id": None,
                "claimed_at": None, "heartbeat": None, "start_time": when, "end_time": when,
                "is_late": False, "created": when, "backfill_id": None,
                "parent_task_run_id": None,
            }
        )  # fmt: skip
        if len(rows) == chunk:
            insert(m.FlowRun.__table__, rows)
            rows = []
    if rows:
        insert(m.FlowRun.__table__, rows)
    for run in big_runs:
        for low in range(0, per_run, chunk):
            insert(
                m.TaskRun.__table__,
                [
                    {
                        "id": fast_id(), "flow_run_id": run, "task_slug": "inc-1",
                        "task_name": "inc", "map_index": i, "tags": [], "state": "Success",
                        "state_message": None, "state_serialized": None,
                        "state_timestamp": now, "version": 2, "created": now,
                        "start_time": now, "end_time": now, "run_count": 1,
                        "history_in_row": True,
                    }
                    for i in range(low, min(per_run, low + chunk))
                ],
            )  # fmt: skip
    per_run_logs = logs // big if big else 0
    for run in big_runs:
        insert(
            m.Log.__table__,
            [
                {
                    "flow_run_id": run, "task_run_id": None, "task_slug": "inc-1",
                    "map_index": i, "timestamp": now, "level": 20, "name": "bench",
                    "message": f"child {i} says hello",
                }
                for i in range(per_run_logs)
            ],
        )  # fmt: skip
    db.dispose()
    return time.perf_counter() - start, big_runs


def bench_lists(
    url: str,
    clients: int,
    requests_each: int,
    page: int,
    big: list[str],
    client: str = "lean",
    server_pid: int = 0,
) -> dict[str, Any]:
    """p50/p99 latency of the list routes with ``clients`` concurrent clients (one
    connection each, one request at a time), ``requests_each`` x 4 requests per client
    cycling through: flow runs (first page, and 5 pages deep by cursor), a run's task runs
    (100 per page), a run's logs; then a page of ``page`` (10,000) children of one run
    alone, 10 times. ``client``: ``lean`` (:mod:`loadgen`, a few tens of microseconds of
    CPU per request) or ``httpx`` (``httpx.AsyncClient``, whose own CPU per request is
    about the server's: with 50 clients it, not the server, sets the tail)."""
    import statistics

    with httpx.Client(base_url=url, timeout=60) as http:
        deep = http.get("/api/flow_runs", params={"limit": 100}).headers.get("x-next-cursor")
        for _ in range(4):
            got = http.get("/api/flow_runs", params={"limit": 100, "cursor": deep})
            deep = got.headers.get("x-next-cursor") or deep
    kinds: list[tuple[str, str, dict[str, Any]]] = []
    for k in range(requests_each * clients):
        run = big[k % len(big)]
        kinds += [
            ("flow runs, first page", "/api/flow_runs", {"limit": 100}),
            ("flow runs, by cursor", "/api/flow_runs", {"limit": 100, "cursor": deep}),
            ("task runs, 100", f"/api/flow_runs/{run}/task_runs", {"limit": 100,
             "min_map_index": 100 * (k % 50)}),
            ("logs, 200", f"/api/flow_runs/{run}/logs", {"limit": 200}),
        ]  # fmt: skip
    per = len(kinds) // clients
    parts = [kinds[i * per : (i + 1) * per] for i in range(clients)]
    import resource

    def own_cpu() -> float:
        used = resource.getrusage(resource.RUSAGE_SELF)
        return used.ru_utime + used.ru_stime

    started, server_started = own_cpu(), cpu_seconds(server_pid) if server_pid else 0.0
    if client == "lean":
        from loadgen import run_clients

        times = run_clients(url, parts)
    else:
        times = _httpx_clients(url, parts)
    cpu = {
        "clients": own_cpu() - started,
        "server": cpu_seconds(server_pid) - server_started if server_pid else 0.0,
    }
    alone: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(10):
            t0 = time.perf_counter()
            answer = http.get(f"/api/flow_runs/{big[0]}/task_runs", params={
                "limit": page, "min_map_index": 0})  # fmt: skip
            alone.append(time.perf_counter() - t0)
            assert answer.status_code == 200, answer.text
            assert len(answer.json()) == page, (len(answer.json()), page)
    times[f"{page:,}-child page, alone"] = alone

    def p(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    out: dict[str, Any] = {
        label: (len(v), statistics.median(v), p(v, 0.99), max(v)) for label, v in times.items()
    }
    out["cpu"] = cpu
    return out


def _httpx_clients(
    url: str, parts: list[list[tuple[str, str, dict[str, Any]]]]
) -> dict[str, list[float]]:
    """The clients of :func:`bench_lists` as coroutines sharing one ``httpx.AsyncClient``."""
    import asyncio

    times: dict[str, list[float]] = {}

    async def main() -> None:
        limits = httpx.Limits(max_connections=len(parts), max_keepalive_connections=len(parts))
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:

            async def client(part: list[tuple[str, str, dict[str, Any]]]) -> None:
                for label, path, params in part:
                    t0 = time.perf_counter()
                    try:
                        answer = await http.get(path, params=params)
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # the server closed an idle keep-alive connection as it was reused:
                        # send again on a new one (the time of both tries counts)
                        answer = await http.get(path, params=params)
                    took = time.perf_counter() - t0
                    assert answer.status_code == 200, answer.text
                    times.setdefault(label, []).append(took)
                    times.setdefault("all", []).append(took)

            await asyncio.gather(*(client(part) for part in parts))

    asyncio.run(main())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="no-op flow runs (default 20)")
    parser.add_argument(
        "--children", type=int, default=10_000, help="mapped children (0: no map benchmark)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of the map benchmark; best kept"
    )
    parser.add_argument(
        "--database",
        default="sqlite",
        help="sqlite (default), postgres (a throwaway local cluster) or a database URL",
    )
    parser.add_argument(
        "--memory-runs",
        type=int,
        default=0,
        help="server RSS over this many backend runs of the map (100 for the issue's figure; "
        "~1-2 min on SQLite)",
    )
    parser.add_argument(
        "--lists",
        action="store_true",
        help="seed --list-flow-runs flow runs and --list-task-runs task runs into a second "
        "server's database and load its list routes with --clients concurrent clients",
    )
    parser.add_argument("--list-flow-runs", type=int, default=100_000)
    parser.add_argument("--list-task-runs", type=int, default=1_000_000)
    parser.add_argument("--list-logs", type=int, default=100_000)
    parser.add_argument(
        "--engine",
        action="store_true",
        help="also the engine's CPU per mapped child (bench/map_child.py, 100,000 children)",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests-each", type=int, default=10, help="x4 requests per client")
    parser.add_argument(
        "--client",
        choices=("lean", "httpx"),
        default="lean",
        help="load generator of --lists: lean (bench/loadgen.py, default) or httpx",
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
    rate, times, memory, lists, seeded = None, {}, [], {}, 0.0
    try:
        server, url = start_server(home, database_url)
        try:
            with Client(url) as client:
                rate = (
                    bench_runs_per_second(client, home, args.runs, server.pid)
                    if args.runs
                    else None
                )
                if args.children:
                    times = bench_map(client, args.children, args.repeat, server.pid)
                if args.memory_runs:
                    started = time.perf_counter()
                    memory = bench_memory(client, server.pid, args.memory_runs, args.children)
                    memory_took = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(30)
        if times and database_url:
            times["postgres floor"] = postgres_floor(database_url, args.children)
        if args.lists:
            lists_home = home / "lists"
            lists_home.mkdir()
            lists_url = database_url or f"sqlite:///{lists_home / 'headrace.db'}"
            seeded, big = seed_lists(
                lists_url, args.list_flow_runs, args.list_task_runs, args.list_logs
            )
            server, url2 = start_server(lists_home, lists_url)
            try:
                page = min(10_000, args.list_task_runs // min(100, args.list_flow_runs))
                lists = bench_lists(
                    url2, args.clients, args.requests_each, page, big, args.client, server.pid
                )
            finally:
                server.terminate()
                server.wait(30)
    finally:
        if postgres is not None:
            postgres.stop()
    print(f"server: {url} on {database}; {os.cpu_count()} CPU(s)")
    if args.engine:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from map_child import measure

        got = measure(str(Path(__file__).resolve().parent.parent / "src"), 100_000, 5)
        per_child = sorted(got["run_cpu"])[2] - got["plain_cpu"]  # type: ignore[index,operator]
        print(
            f"engine CPU per mapped child, LocalExecutor, 100,000 children (median of 5, minus "
            f"the same loop in plain Python): {per_child / 100_000 * 1e6:.2f} us "
            "(target: <= 5 us)"
        )
    if rate is not None:
        print(
            f"no-op flow runs through server + local agent (warm launcher, 4 at a time): "
            f"{rate['runs_per_s']:.2f} runs/s ({args.runs} created at once; target: >= 20); "
            f"create -> Running one by one p50 {rate['p50']:.3f} s, p95 {rate['p95']:.3f} s "
            "(target: p50 <= 0.2 s)"
        )
    if times:
        _print_map(times, args.children, args.repeat, database)
    if memory:
        first, last = memory[0][1], memory[-1][1]
        print(
            f"server RSS over {memory[-1][0]} backend runs of {args.children:,} children: "
            f"{first:.1f} MiB after the first, {last:.1f} MiB after the last: "
            f"{last - first:+.1f} MiB (target: within 50 MiB); took {memory_took:.0f} s"
        )
    if lists:
        print(
            f"list routes, {args.list_flow_runs:,} flow runs, {args.list_task_runs:,} task runs, "
            f"{args.list_logs:,} logs (seeded in {seeded:.0f} s), {args.clients} concurrent "
            f"clients ({args.client} client):"
        )
        cpu = lists.pop("cpu")
        print(
            f"  CPU of the concurrent part: clients {cpu['clients']:.1f} s, server "
            f"{cpu['server']:.1f} s (the clients must cost far less than the server)"
        )
        for label, (n, p50, p99, worst) in lists.items():
            target = ""
            if label == "all":
                target = "  (target: p99 <= 200 ms)"
            elif label.endswith("-child page, alone"):
                target = "  (target: <= 100 ms)"
            print(
                f"  {label:<28} {n:5d} requests  p50 {p50 * 1e3:6.1f} ms  p99 "
                f"{p99 * 1e3:6.1f} ms  max {worst * 1e3:6.1f} ms{target}"
            )


def _print_map(times: dict[str, float], children: int, repeat: int, database: str) -> None:
    plain = times["plain flow.run()"]
    target = 2 if database == "SQLite" else 3
    print(f"map of {children:,} children (best of {repeat}; target: backend <= {target}x plain):")
    for label in ("plain flow.run()", "backend runner", "backend runner, no checkpoints"):
        extra = ""
        if label != "plain flow.run()":
            flow_part = times[label + " flow"]
            per_child = (times[label] - plain) / children * 1e6
            extra = (
                f"  {times[label] / plain:.2f}x plain, +{per_child:.0f} us a child, "
                f"{int(times[label + ' requests'])} requests"
                f" (flow done at {flow_part:.2f} s = {flow_part / plain:.2f}x plain; the rest is"
                " the server catching up)"
            )
            if label + " server cpu" in times:
                cpu = times[label + " server cpu"]
                extra += f"; server CPU {cpu:.2f} s = {cpu / children * 1e6:.1f} us a child"
        print(f"  {label:<32} {times[label]:7.2f} s{extra}")
    if "postgres floor" in times:
        floor = times["postgres floor"]
        print(
            f"  {'floor: PostgreSQL COPY alone':<32} {floor:7.2f} s  {floor / plain:.2f}x plain "
            f"({children:,} task-run rows as a plain child is stored now, prepared tuples, one "
            "COPY, one commit, in the server's database)"
        )
    if database == "SQLite":
        floor = sqlite_floor(children)
        print(
            f"  {'floor: SQLite inserts alone':<32} {floor:7.2f} s  {floor / plain:.2f}x plain "
            f"({children:,} task-run rows + {2 * children:,} history rows, prepared "
            "tuples, one executemany each, in the server's schema, as before issue 16)"
        )
        floor = sqlite_floor(children, history=False)
        print(
            f"  {'floor: the same, rows only':<32} {floor:7.2f} s  {floor / plain:.2f}x plain "
            f"({children:,} task-run rows with their start, end and attempts, as a plain "
            "child is stored now)"
        )


if __name__ == "__main__":
    main()
