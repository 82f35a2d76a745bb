"""Benchmark of starting flow runs: no-op runs through a real server and one local agent.

It starts ``headrace server start`` on a fresh SQLite file (its own process, as in
production), registers a no-op flow (Local storage, stored as a script) and, in the same
invocation, measures one ``LocalAgent`` (in this process) per launcher mode:

- ``polled``: claims as before this launcher: each run a cold ``python -m headrace
  execute flow-run`` process, claims polled every ``agent.poll_interval`` (2 s, the
  default), not long-polled (the agent still looks again at once when one of its runs
  ends, so a run created just as another ends is claimed early);
- ``cold``: cold-started processes, claims long-polled (``wait``);
- ``warm``: runs forked from the warm launcher's pre-imported template, claims long-polled.

For each mode:

1. **throughput**: ``--runs`` runs created at once; runs/s = runs / (first create to last
   ``Success`` seen); also the create -> Running p50/p95 of those runs (queueing included:
   the agent runs ``--concurrency`` at once).
2. **latency**: ``--latency-runs`` runs created one at a time, each after the previous
   finished; create -> Running per run is the run's ``start_time`` (set by the server when
   the runner reports Running) minus the wall-clock time just before the create call (same
   machine, same clock); p50/p95, and the same split at the claim (create -> Submitted).

Every run must end ``Success``. Usage::

    python bench/launch.py                      # 60 runs at once + 20 one by one, each mode
    python bench/launch.py --runs 30 --latency-runs 10 --modes warm,cold
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(HERE))
# The server and the runs import this tree, not whatever headrace is installed.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p
)

from backend import NOOP, start_server  # noqa: E402

MODES = ("polled", "cold", "warm")


def _stamp(text: str | None) -> float:
    assert text, "the run has no such time"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0], ordered[0]
    cuts = statistics.quantiles(ordered, n=20, method="inclusive")
    return statistics.median(ordered), cuts[18]


def _make_agent(client: Any, mode: str, home: Path, concurrency: int) -> Any:
    from headrace.agent import LocalAgent

    env = {
        "HEADRACE__HOME_DIR": str(home),
        "HEADRACE__FLOWS__RESULTS_DIR": str(home / "results"),
        "HEADRACE__LOGGING__LEVEL": "WARNING",
        "HEADRACE__CLOUD__REPORT_INTERVAL": "0.1",
        "PYTHONPATH": os.environ["PYTHONPATH"],
    }
    agent = LocalAgent(
        client=client,
        labels=[],
        name=f"bench-{mode}",
        poll_interval=2.0,
        max_concurrent_runs=concurrency,
        env=env,
        warm_start=mode == "warm",
    )
    agent.long_poll = mode != "polled"
    agent.register()
    if agent.launcher is not None and not agent.launcher.wait_ready(60):
        raise SystemExit("the warm launcher's template did not come up within 60 s")
    return agent


def _wait_done(
    client: Any, ids: list[str], flow_id: str, timeout: float = 600
) -> list[dict[str, Any]]:
    """The runs ``ids`` once all have finished, polled every 50 ms with one list request
    (finished runs of the flow) rather than one request per run: the benchmark's watching
    costs the server little beside what it measures. Each run is read once at the end."""
    wanted = set(ids)
    deadline = time.monotonic() + timeout
    while True:
        finished = client.get_flow_runs(
            flow_id=flow_id, state=["Success", "Failed", "Cancelled"], limit=1000
        )
        if wanted <= {r["id"] for r in finished}:
            return [client.get_flow_run(i) for i in sorted(wanted)]
        if time.monotonic() > deadline:
            raise SystemExit(f"runs did not finish within {timeout:g}s")
        time.sleep(0.05)


def _done_count(client: Any, flow_id: str, since: str) -> int:
    page = client.get_flow_runs(flow_id=flow_id, state=["Success", "Failed"], limit=1000)
    return sum(1 for r in page if r["created"] >= since)


def _cpu(server_pid: int, agent: Any) -> dict[str, float]:
    """CPU seconds so far of the server, this process (the agent, and the benchmark's own
    polling) and the runs' processes (reaped by this process, or by the template)."""
    import psutil

    def total(times: Any, children: bool = False) -> float:
        if children:
            return float(times.children_user + times.children_system)
        return float(times.user + times.system)

    me = psutil.Process().cpu_times()
    runs = total(me, children=True)
    template = agent.launcher.template_pid if agent.launcher is not None else None
    if template:
        runs += total(psutil.Process(template).cpu_times(), children=True)
    return {
        "server": total(psutil.Process(server_pid).cpu_times()),
        "agent": total(me),
        "runs": runs,
    }


def bench_mode(
    client: Any,
    flow_id: str,
    mode: str,
    home: Path,
    runs: int,
    latency_runs: int,
    conc: int,
    server_pid: int,
) -> dict[str, Any]:
    agent = _make_agent(client, mode, home, conc)
    agent.start()
    result: dict[str, Any] = {"mode": mode}
    try:
        # 1. throughput: all at once
        created: dict[str, float] = {}
        cpu_before = _cpu(server_pid, agent)
        start = time.perf_counter()
        for _ in range(runs):
            before = time.time()
            created[client.create_flow_run(flow_id)["id"]] = before
        done = _wait_done(client, list(created), flow_id)
        elapsed = time.perf_counter() - start
        while agent.runs:  # every run's process ended (its CPU is counted)
            time.sleep(0.01)
        cpu_after = _cpu(server_pid, agent)
        result["cpu_ms"] = {k: 1000 * (cpu_after[k] - cpu_before[k]) / runs for k in cpu_after}
        bad = [r["id"] for r in done if r["state"] != "Success"]
        if bad:
            raise SystemExit(f"{mode}: runs did not succeed: {bad[:3]}: {done[0]['state_message']}")
        to_running = [_stamp(r["start_time"]) - created[r["id"]] for r in done]
        result["runs_per_s"] = runs / elapsed
        result["burst_p50"], result["burst_p95"] = _quantiles(to_running)
        # 2. latency: one at a time
        to_running, to_claim = [], []
        for _ in range(latency_runs):
            before = time.time()
            run_id = client.create_flow_run(flow_id)["id"]
            (run,) = _wait_done(client, [run_id], flow_id)
            if run["state"] != "Success":
                raise SystemExit(f"{mode}: run {run_id} {run['state']}: {run['state_message']}")
            to_running.append(_stamp(run["start_time"]) - before)
            to_claim.append(_stamp(run["claimed_at"]) - before)
            while agent.runs:  # its process ended too (the next run starts on an idle agent)
                time.sleep(0.01)
        result["p50"], result["p95"] = _quantiles(to_running)
        result["claim_p50"], _ = _quantiles(to_claim)
        result["warm_starts"], result["cold_starts"] = agent.warm_starts, agent.cold_starts
    finally:
        agent.stop(stop_runs=True, grace=5)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="runs created at once (60)")
    parser.add_argument("--latency-runs", type=int, default=20, help="runs one by one (20)")
    parser.add_argument("--concurrency", type=int, default=8, help="agent's max runs (8)")
    parser.add_argument("--modes", default=",".join(MODES), help="polled,cold,warm")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose among {', '.join(MODES)}")

    from headrace.cli.flowfile import flows_in_file
    from headrace.client import Client
    from headrace.storage import Local

    with tempfile.TemporaryDirectory(prefix="headrace-bench-launch-") as tmp:
        home = Path(tmp)
        os.environ["HEADRACE__HOME_DIR"] = str(home)
        os.environ["HEADRACE__LOGGING__LEVEL"] = "WARNING"
        server, url = start_server(home)
        try:
            with Client(url) as client:
                script = home / "noop.py"
                script.write_text(NOOP)
                (flow,) = flows_in_file(str(script))
                flow.storage = Local(stored_as_script=True, path=str(script))
                flow_id = client.register(flow, project_name="bench")
                results = [
                    bench_mode(
                        client,
                        flow_id,
                        mode,
                        home,
                        args.runs,
                        args.latency_runs,
                        args.concurrency,
                        server.pid,
                    )
                    for mode in modes
                ]
        finally:
            server.kill()
            server.wait(10)
    print(
        f"\nno-op flow runs, server (SQLite) + one LocalAgent (max {args.concurrency} at once); "
        f"{args.runs} runs at once, {args.latency_runs} one by one\n"
    )
    print(
        "| launcher | runs/s | create->Running p50 / p95 (one by one) | create->claim p50 "
        "| create->Running p50 / p95 (all at once) | CPU ms per run: server / agent / run |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['mode']} | {r['runs_per_s']:.1f} | {r['p50']:.3f} s / {r['p95']:.3f} s "
            f"| {r['claim_p50']:.3f} s | {r['burst_p50']:.2f} s / {r['burst_p95']:.2f} s "
            f"| {r['cpu_ms']['server']:.0f} / {r['cpu_ms']['agent']:.0f} / "
            f"{r['cpu_ms']['runs']:.0f} |"
        )
    by = {r["mode"]: r for r in results}
    if "warm" in by and "cold" in by:
        w, c = by["warm"], by["cold"]
        print(
            f"\nwarm vs cold: {w['runs_per_s'] / c['runs_per_s']:.1f}x runs/s, "
            f"create->Running p50 {c['p50'] / w['p50']:.1f}x faster "
            f"(warm starts {w['warm_starts']}, cold starts {w['cold_starts']})"
        )


if __name__ == "__main__":
    main()
