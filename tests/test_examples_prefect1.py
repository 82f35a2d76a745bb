"""The Prefect 1 flows of ``examples/prefect1``: each runs as a script in a real
subprocess and prints what Prefect 1's documented behaviour says it prints; each differs
from its Prefect 1 original only in its imports (``prefect`` -> ``headrace``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "prefect1"

# The Prefect 1 modules the examples import from, as headrace spells them.
PREFECT_MODULES = {
    "prefect",
    "prefect.tasks.control_flow",
    "prefect.engine.signals",
    "prefect.tasks.shell",
    "prefect.engine.results",
    "prefect.schedules",
}

EXPECTED = {
    "case_merge": [
        "another_action got: I am true!",
        "force=True: Success",
        "  true branch: Success",
        "  false branch: Skipped",
        "another_action got: I am false!",
        "force=False: Success",
        "  true branch: Skipped",
        "  false branch: Success",
    ],
    "loop_pagination": [
        "iteration 1: read 2 item(s)",
        "iteration 2: read 2 item(s)",
        "iteration 3: read 1 item(s)",
        "5 items: a, b, c, d, e",
        "Success",
        "iteration 1: read 2 item(s)",
        "iteration 2: read 2 item(s)",
        "4 items: a, b, c, d",
        "Success",
    ],
    "dask_resource_manager": [
        "cluster up with 1 worker(s)",
        "sum of squares: 30",
        "cluster closed",
        "Success",
        "cluster up with 1 worker(s)",
        "cluster closed",
        "Failed",
    ],
    "apply_map_subgraph": ["results: [1, 10, 2, 16, 3]", "Success"],
    "shell_pipeline": [
        "words: ['alpha', 'beta', 'gamma']",
        "loud: ['ALPHA', 'BETA', 'GAMMA']",
        "chars: 20",
        "broken: Failed",
        "ShellTask 'broken': command failed with exit code 3; stderr:",
        "disk full",
        "Failed",
    ],
    "targets_dates": [
        "extracting",
        "transforming",
        "run 1: Success [1, 2, 3]",
        "run 2: Cached [1, 2, 3]",
    ],
    "restart_after_failure": [
        "downloading",
        "first run: Failed - Task 'load' failed: RuntimeError: the warehouse is not ready",
        "loaded 42 rows",
        "second run: Success 42",
    ],
    "ifelse_switch_map": [
        "1 is small, odd",
        "2 is small, even",
        "3 is small, odd",
        "4 is large, even",
        "5 is large, odd",
        "6 is large, even",
        "tagged: 13",
        "Success",
    ],
    "etl_retries_schedule": [
        "transform: retrying after: flaky source",
        "first scheduled run: total 60",
        "second scheduled run: total 60",
        "Success 60",
    ],
}


def test_every_example_is_checked() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 8


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_only_the_imports_name_headrace(name: str) -> None:
    source = (EXAMPLES / f"{name}.py").read_text()
    for line in source.splitlines():
        if "headrace" not in line:
            continue
        match = re.fullmatch(r"from (headrace[\w.]*) import [\w, ]+", line)
        assert match, f"{name}: headrace outside an import: {line!r}"
        assert match.group(1).replace("headrace", "prefect", 1) in PREFECT_MODULES, line


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_prints_what_prefect_1_would(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "HEADRACE__LOGGING__LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == EXPECTED[name], done.stderr[-3000:]
