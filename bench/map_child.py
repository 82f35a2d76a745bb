"""The engine's CPU per mapped child on ``LocalExecutor``, this tree beside a baseline tree.

    python bench/map_child.py                                  # this tree alone
    python bench/map_child.py --baseline /tmp/fastpath-base/src
    python bench/map_child.py --sizes 10000,100000 --repeat 7 --baseline ...

Each tree is measured in fresh interpreters (``PYTHONPATH=<tree>/src``), alternating between
the trees round by round so both see the same machine load. One measurement builds
``numbers(n)`` mapped by ``inc`` and reduced by ``total`` and times ``flow.run()`` (the
default executor, ``LocalExecutor``) with ``time.process_time()``; the per-child CPU is
that time minus the same loop in plain Python, divided by ``n``. The table gives the median
of the repeats (and the lowest), since other jobs on a shared machine add noise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import gc, json, logging, sys, time
logging.disable(logging.CRITICAL)
from headrace import Flow, task

def inc(x):
    return x + 1

def total(xs):
    return sum(xs)

def numbers(n):
    return list(range(n))

n, runs = int(sys.argv[1]), int(sys.argv[2])
t_inc, t_total, t_numbers = task(inc), task(total), task(numbers)

def build(size):
    with Flow("map") as flow:
        out = t_total(t_inc.map(t_numbers(size)))
    return flow, out

flow, out = build(4)  # warm-up: imports and first-use costs
assert flow.run().result[out].result == 10
start = time.process_time()
assert total([inc(i) for i in numbers(n)]) == n * (n + 1) // 2
plain = time.process_time() - start
cpu, build_cpu = [], []
for _ in range(runs):
    gc.collect()
    start = time.process_time()
    flow, out = build(n)
    built = time.process_time()
    state = flow.run()
    end = time.process_time()
    assert state.result[out].result == n * (n + 1) // 2, state
    cpu.append(end - built)
    build_cpu.append(built - start)
print(json.dumps({"run_cpu": cpu, "build_cpu": build_cpu, "plain_cpu": plain}))
"""


def measure(src: str, size: int, runs: int) -> dict[str, list[float] | float]:
    env = {**os.environ, "PYTHONPATH": src, "HEADRACE__LOGGING__LEVEL": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(size), str(runs)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{src}: {done.stderr.strip()[-2000:]}")
    got: dict[str, list[float] | float] = json.loads(done.stdout.strip().splitlines()[-1])
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="the baseline's src directory")
    parser.add_argument("--sizes", default="10000,100000", help="children per map")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (fresh interpreters)")
    parser.add_argument("--runs", type=int, default=1, help="runs per interpreter")
    args = parser.parse_args(argv)
    trees = {"this tree": str(ROOT / "src")}
    if args.baseline:
        trees = {"baseline": args.baseline, **trees}
    load = os.getloadavg()
    print(
        f"map child CPU, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores, load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"
    )
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        per_child: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(args.repeat):
            for name, src in trees.items():
                got = measure(src, size, args.runs)
                plain = float(got["plain_cpu"])  # type: ignore[arg-type]
                for cpu in got["run_cpu"]:  # type: ignore[union-attr]
                    per_child[name].append((cpu - plain) / size)
        for name in trees:
            values = per_child[name]
            rows.append(
                f"| map {size:,} | {name} | {len(values)} | "
                f"{statistics.median(values) * 1e6:.2f} µs | {min(values) * 1e6:.2f} µs |"
            )
        if args.baseline:
            ratio = statistics.median(per_child["this tree"]) / statistics.median(
                per_child["baseline"]
            )
            rows.append(f"| map {size:,} | this tree / baseline | | {ratio:.2f} | |")
    print("\n| scenario | tree | runs | CPU per child (median) | lowest |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
