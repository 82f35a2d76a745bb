"""headrace's benchmark suite: the same scenarios on headrace and on its baselines, in one
invocation, printed as one table (and written to ``.bench/results.md`` and ``.json``).

    python bench/run.py            # everything (about 12-15 minutes on 2 cores)
    python bench/run.py --quick    # headrace + plain Python at small sizes (seconds)

Each measurement runs in a fresh interpreter (``bench/scenarios.py``), so imports, caches
and peak memory of one never leak into another. prefect 0.15.13 runs from its own
virtualenv under ``.bench/`` that this script creates on first use. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PREFECT_REQUIREMENTS = HERE / "prefect015-requirements.txt"
SLEEP_WORKERS = 8  # threads running the sleep scenario on every parallel engine

ORCHESTRATED = (
    "headrace-local",
    "headrace-threads",
    "headrace-processes",
    "headrace-dask",
    "prefect-local",
)
RAW_DASK = ("dask-threads", "dask-graph-threads", "dask-distributed", "dask-graph-distributed")


@dataclass
class Case:
    scenario: str
    size: int
    engines: tuple[str, ...]
    repeat: int = 3
    single_run: tuple[str, ...] = ()  # engines too slow at this size for several runs
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.scenario} {self.size:,}"


def full_cases() -> list[Case]:
    everything = ("python", *ORCHESTRATED, *RAW_DASK)
    slow = ("prefect-local", "dask-distributed", "dask-graph-distributed")
    return [
        Case("chain", 1_000, everything),
        Case("wide", 10_000, everything, single_run=slow),
        Case("map", 10_000, everything, single_run=slow),
        # headrace runs a map's children in chunks, so every headrace engine runs this in
        # seconds; raw dask.distributed, one dask task per child, takes ~10 minutes a run
        # on this 2-core machine, so it is left out (prefect too: ~7 ms per task).
        Case(
            "map",
            100_000,
            (
                "python",
                "headrace-local",
                "headrace-threads",
                "headrace-processes",
                "headrace-dask",
                "dask-graph-threads",
            ),
            single_run=("dask-graph-threads",),
        ),
        Case(
            "sleep",
            200,
            (
                "headrace-threads",
                "headrace-processes",
                "headrace-dask",
                "prefect-threads",
                "dask-threads",
                "dask-distributed",
            ),
            extra={"workers": SLEEP_WORKERS, "threads_per_worker": SLEEP_WORKERS // 2},
        ),
    ]


def quick_cases() -> list[Case]:
    engines = ("python", "headrace-local", "headrace-threads")
    return [
        Case("chain", 50, engines, repeat=2),
        Case("wide", 200, engines, repeat=2),
        Case("map", 200, engines, repeat=2),
        Case("map", 2_000, engines, repeat=1),
        Case("sleep", 16, ("headrace-threads",), repeat=1, extra={"workers": SLEEP_WORKERS}),
    ]


# ---- prefect 0.15 in its own virtualenv -------------------------------------------------


def prefect_python(bench_dir: Path) -> Path | None:
    """The prefect 0.15.13 virtualenv's interpreter, created on first use; None if it
    cannot be installed here."""
    venv = bench_dir / "prefect015"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if stamp.exists() and stamp.read_text() == PREFECT_REQUIREMENTS.read_text():
        return python
    print(f"installing prefect 0.15.13 into {venv} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(PREFECT_REQUIREMENTS)],
            check=True,
        )
        subprocess.run([str(python), "-c", "import prefect"], check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"prefect 0.15 baseline unavailable: {exc}", file=sys.stderr)
        return None
    stamp.write_text(PREFECT_REQUIREMENTS.read_text())
    return python


# ---- measuring ------------------------------------------------------------------------


def measure(case: Case, engine: str, prefect: Path | None, timeout: float) -> dict[str, Any] | str:
    """The scenario's measurements on ``engine``, or why there are none."""
    python = str(prefect) if engine.startswith("prefect") else sys.executable
    if engine.startswith("prefect") and prefect is None:
        return "prefect not installed"
    repeat = 1 if engine in case.single_run else case.repeat
    spec = {
        "scenario": case.scenario,
        "engine": engine,
        "size": case.size,
        "repeat": repeat,
        **case.extra,
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.setdefault("HEADRACE__LOGGING__LEVEL", "ERROR")
    env.setdefault("PREFECT__LOGGING__LEVEL", "ERROR")
    try:
        done = subprocess.run(
            [python, str(HERE / "scenarios.py"), json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(HERE),
        )
    except subprocess.TimeoutExpired:
        return f"over {timeout:.0f}s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return f"error: {last[:80]}"
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


IMPORT_SCRIPTS = {
    "python": "def inc(x):\n    return x + 1\nassert inc(inc(1)) == 3\n",
    "headrace": (
        "from headrace import Flow, task\n"
        "@task\ndef inc(x):\n    return x + 1\n"
        "with Flow('two') as flow:\n    out = inc(inc(1))\n"
        "assert flow.run().result[out].result == 3\n"
    ),
    "prefect": (
        "from prefect import Flow, task\n"
        "@task\ndef inc(x):\n    return x + 1\n"
        "with Flow('two') as flow:\n    out = inc(inc(1))\n"
        "assert flow.run().result[out].result == 3\n"
    ),
}


def measure_import(engine: str, prefect: Path | None, repeat: int) -> dict[str, Any] | str:
    """Whole-process wall time of a two-task flow: interpreter start, imports and the run."""
    python = str(prefect) if engine == "prefect" else sys.executable
    if engine == "prefect" and prefect is None:
        return "prefect not installed"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "HEADRACE__LOGGING__LEVEL": "ERROR",
        "PREFECT__LOGGING__LEVEL": "ERROR",
    }
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [python, "-c", IMPORT_SCRIPTS[engine]], env=env, capture_output=True, text=True
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            return f"error: {(done.stderr.strip().splitlines() or ['?'])[-1][:80]}"
    return {"times": times, "build_times": [0.0] * repeat, "peak_rss_kib": None}


# ---- the table --------------------------------------------------------------------------


def fmt_seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| scenario | engine | runs | wall (median) | of which build | run (wall - build) "
        "| per-task overhead | vs ideal | peak RSS growth | per task | workers' peak RSS growth "
        "| all, per task |"
    )
    lines = [head, "|" + "---|" * 12]
    for row in results:
        got = row["result"]
        if isinstance(got, str):
            lines.append(f"| {row['case']} | {row['engine']} | - | {got} | | | | | | | | |")
            continue
        wall = statistics.median(got["times"])
        build = statistics.median(got["build_times"])
        overhead = row.get("overhead")
        ideal = row.get("ideal")
        rss = got.get("peak_rss_kib")
        per_task_mem = f"{rss * 1024 / row['tasks']:.0f} B" if rss is not None else ""
        lines.append(
            f"| {row['case']} | {row['engine']} | {len(got['times'])} | {fmt_seconds(wall)} "
            f"| {fmt_seconds(build) if build else ''} "
            f"| {fmt_seconds(statistics.median(run_times(got)))} "
            f"| {fmt_seconds(overhead) if overhead is not None else ''} "
            f"| {f'{wall / ideal:.2f}x' if ideal else ''} "
            f"| {f'{rss / 1024:.1f} MiB' if rss is not None else ''} | {per_task_mem} "
            f"| {workers_mem(got)} | {all_mem(got, row['tasks'])} |"
        )
    return "\n".join(lines)


def workers_mem(got: dict[str, Any]) -> str:
    """The peak RSS growth of dask.distributed workers, summed over them."""
    kib = got.get("workers_peak_rss_kib")
    return "" if kib is None else f"{kib / 1024:.1f} MiB (sum)"


def all_mem(got: dict[str, Any], tasks: int) -> str:
    """Peak RSS growth of the measuring process plus its workers', per task."""
    rss, workers = got.get("peak_rss_kib"), got.get("workers_peak_rss_kib")
    if rss is None or workers is None:
        return ""
    return f"{(rss + workers) * 1024 / tasks:.0f} B"


def run_times(got: dict[str, Any]) -> list[float]:
    return [t - b for t, b in zip(got["times"], got["build_times"], strict=True)]


def median_of(
    results: list[dict[str, Any]], case: str, engine: str, run_only: bool = False
) -> float | None:
    for row in results:
        if row["case"] == case and row["engine"] == engine and not isinstance(row["result"], str):
            got = row["result"]
            return statistics.median(run_times(got) if run_only else got["times"])
    return None


def targets(results: list[dict[str, Any]], cases: list[Case]) -> str:
    """The issue's targets, computed from the table."""
    out = []
    for case in cases:
        if case.scenario in ("chain", "wide", "map"):
            mine = next(
                (
                    r.get("overhead")
                    for r in results
                    if r["case"] == case.name and r["engine"] == "headrace-local"
                ),
                None,
            )
            theirs = next(
                (
                    r.get("overhead")
                    for r in results
                    if r["case"] == case.name and r["engine"] == "prefect-local"
                ),
                None,
            )
            if mine and theirs:
                out.append(
                    f"- {case.name}: prefect 0.15 per-task overhead / headrace "
                    f"LocalExecutor's = {theirs / mine:.0f}x (target ≥ 100x)"
                )
            for ours, raw, limit in (
                ("headrace-threads", "dask-threads", 1.0),
                ("headrace-threads", "dask-graph-threads", 1.0),
                ("headrace-dask", "dask-distributed", 1.5),
                ("headrace-dask", "dask-graph-distributed", 1.5),
            ):
                a, b = median_of(results, case.name, ours), median_of(results, case.name, raw)
                ra = median_of(results, case.name, ours, run_only=True)
                rb = median_of(results, case.name, raw, run_only=True)
                if a and b and ra and rb:
                    out.append(
                        f"- {case.name}: {ours} / {raw} = {a / b:.2f} on wall time, "
                        f"{ra / rb:.2f} on run time (target ≤ {limit})"
                    )
        if case.scenario == "sleep":
            for row in results:
                if (
                    row["case"] == case.name
                    and row.get("ideal")
                    and not isinstance(row["result"], str)
                ):
                    wall = statistics.median(row["result"]["times"])
                    out.append(
                        f"- {case.name}: {row['engine']} {wall / row['ideal']:.2f}x ideal "
                        "(target ≤ 1.15x)"
                    )
    return "\n".join(out)


def task_count(case: Case) -> int:
    return case.size + (0 if case.scenario == "chain" else 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="headrace and plain Python only, small sizes"
    )
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    parser.add_argument("--engines", help="comma-separated engines to run (default: all)")
    parser.add_argument("--no-prefect", action="store_true", help="skip the prefect baseline")
    parser.add_argument("--out", default=str(ROOT / ".bench"), help="where results go")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    args = parser.parse_args(argv)

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = quick_cases() if args.quick else full_cases()
    if args.only:
        cases = [c for c in cases if args.only in c.name]
    prefect = None if args.quick or args.no_prefect else prefect_python(out_dir)

    results: list[dict[str, Any]] = []
    for case in cases:
        floor = None
        for engine in case.engines:
            if args.engines and engine not in args.engines.split(","):
                continue
            print(f"{case.name:>14} on {engine:<24}", end=" ", flush=True)
            got = measure(case, engine, prefect, args.timeout)
            row: dict[str, Any] = {
                "case": case.name,
                "engine": engine,
                "result": got,
                "tasks": task_count(case),
            }
            if not isinstance(got, str):
                wall = statistics.median(got["times"])
                if engine == "python":
                    floor = wall
                elif floor is not None:
                    row["overhead"] = (wall - floor) / task_count(case)
                if case.scenario == "sleep":
                    row["ideal"] = math.ceil(case.size / SLEEP_WORKERS) * 0.05
                print(fmt_seconds(wall), flush=True)
            else:
                print(got, flush=True)
            results.append(row)
    import_engines = ("python", "headrace") if args.quick else ("python", "headrace", "prefect")
    for engine in import_engines:
        print(f"{'import + run':>14} on {engine:<24}", end=" ", flush=True)
        got = measure_import(engine, prefect, 2 if args.quick else 5)
        results.append(
            {"case": "two tasks, whole process", "engine": engine, "result": got, "tasks": 2}
        )
        print(got if isinstance(got, str) else fmt_seconds(statistics.median(got["times"])))

    load = os.getloadavg()
    header = (
        f"headrace benchmark — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.python_version()}, {os.cpu_count()} cores, load average "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}{' (quick)' if args.quick else ''}\n\n"
        "wall = build + run, median of the runs; per-task overhead = (wall - plain Python's) "
        "/ tasks; peak RSS growth = ru_maxrss after the runs - before building, in the "
        "measuring process; workers' = the same on each dask.distributed worker, summed "
        "(LocalDaskExecutor(processes) workers are not measured).\n"
    )
    report = f"{header}\n{table(results)}\n\n{targets(results, cases)}\n"
    print()
    print(report)
    (out_dir / "results.md").write_text(report)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1))
    failed = [r for r in results if isinstance(r["result"], str) and "prefect" not in r["engine"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
