"""This tree beside another on the same ``bench/scenarios.py`` measurements, alternating.

    python bench/ab.py --baseline /tmp/fastpath-base            # a checkout of the baseline
    python bench/ab.py --baseline /tmp/fastpath-base --rounds 5

Each measurement is a fresh interpreter running this tree's ``scenarios.py`` with
``PYTHONPATH=<tree>/src``; the two trees take turns case by case, round by round, so both
see the same machine load. Prints the median wall time (with its build and run parts) of
all runs of each case on each tree, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = [
    ("chain", "headrace-local", 1_000),
    ("chain", "headrace-threads", 1_000),
    ("wide", "headrace-local", 10_000),
    ("wide", "headrace-threads", 10_000),
    ("map", "headrace-local", 10_000),
    ("map", "headrace-threads", 10_000),
    ("map", "headrace-local", 100_000),
    ("map", "headrace-threads", 100_000),
]


def measure(root: Path, scenario: str, engine: str, size: int) -> dict[str, list[float]]:
    spec = {"scenario": scenario, "engine": engine, "size": size, "repeat": 3}
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "HEADRACE__LOGGING__LEVEL": "ERROR"}
    done = subprocess.run(
        [sys.executable, str(HERE / "scenarios.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(HERE),
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{root} {scenario} {engine}: {done.stderr.strip()[-2000:]}")
    got: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return got


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="the baseline tree's root")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    trees = {"baseline": Path(args.baseline), "this tree": HERE.parent}
    results: dict[tuple[int, str], dict[str, list[float]]] = {}
    for _ in range(args.rounds):
        for n, case in enumerate(CASES):
            for name, root in trees.items():
                got = measure(root, *case)
                into = results.setdefault((n, name), {"times": [], "build_times": []})
                into["times"] += got["times"]
                into["build_times"] += got["build_times"]
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}\n")
    print("| scenario | engine | baseline: wall (build / run) | this tree | this / baseline |")
    print("|---|---|---|---|---|")
    for n, (scenario, engine, size) in enumerate(CASES):
        cells = []
        walls = []
        for name in trees:
            got = results[(n, name)]
            wall, build = statistics.median(got["times"]), statistics.median(got["build_times"])
            walls.append(wall)
            cells.append(f"{ms(wall)} ({ms(build)} / {ms(wall - build)})")
        print(
            f"| {scenario} {size:,} | {engine} | {cells[0]} | {cells[1]} "
            f"| {walls[1] / walls[0]:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
