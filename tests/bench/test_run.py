"""The benchmark script works: its quick mode runs every quick scenario on headrace and plain
Python and writes the table. No timings are asserted (speed is measured, not tested)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_mode_runs_and_writes_the_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads((tmp_path / "results.json").read_text())
    failures = [r for r in rows if isinstance(r["result"], str)]
    assert failures == []
    measured = {(r["case"], r["engine"]) for r in rows}
    for case in ("chain 50", "wide 200", "map 200", "map 2,000"):
        for engine in ("python", "headrace-local", "headrace-threads"):
            assert (case, engine) in measured
    assert ("two tasks, whole process", "headrace") in measured
    overheads = [r["overhead"] for r in rows if r["engine"] == "headrace-local"]
    assert len(overheads) == 4 and all(isinstance(o, float) for o in overheads)
    table = (tmp_path / "results.md").read_text()
    assert "| map 2,000 | headrace-threads |" in table
    assert table in done.stdout
