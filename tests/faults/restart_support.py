"""Helpers of the restart and worker-loss fault tests: the flows under ``restart_flows/``, reading
what their tasks counted, choosing the moment to kill, and the invariants every case checks.

The flows' tasks append one line per execution to ``$HEADRACE_TEST_COUNTS/<task>``
(``<flow run id> <map index> <pid> <value>``), so the tests know which child ran how many
times, in which process, and what the reduce added up -- from the side effects, not from
what headrace says about itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.agent.backend_support import wait_for

from headrace.client import Client

__all__ = [
    "FINAL_TASK_STATES",
    "FLOWS",
    "SHAPES",
    "Counts",
    "Shape",
    "acknowledged_children",
    "agent_process",
    "assert_settled_right",
    "kill",
    "run_env",
    "run_process",
    "stop_process",
    "wait_for_children",
]

FLOWS = Path(__file__).parent / "restart_flows"
FINAL_TASK_STATES = {"Success", "Mapped", "Cached", "Skipped"}


def _ranges(n: int) -> list[list[int]]:
    """What ``nested.py``'s ``ranges.map`` gives for ``n`` items: the map it flattens."""
    return [list(range(x % 4 + 1)) for x in range(n)]


@dataclass(frozen=True)
class Shape:
    """One of the flows: its script, the map the tests interrupt (slug, and the counts
    file of its children), and for ``n`` items how many children that map has and the
    total plain Python computes."""

    script: str
    slug: str
    counted: str
    children: Callable[[int], int]
    total: Callable[[int], int]


SHAPES = {
    "map": Shape(
        "squares.py", "square-1", "square", lambda n: n, lambda n: sum(x * x for x in range(n))
    ),
    "chained": Shape(
        "chained.py", "plus-1", "plus", lambda n: n, lambda n: sum(x * x + 1 for x in range(n))
    ),
    "nested": Shape(
        "nested.py",
        "square-1",
        "square",
        lambda n: sum(len(r) for r in _ranges(n)),
        lambda n: sum(y * y for r in _ranges(n) for y in r),
    ),
}


class Counts:
    """What the flows' tasks counted in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def lines(self, task: str) -> list[list[str]]:
        path = self.folder / task
        if not path.exists():
            return []
        return [line.split(" ") for line in path.read_text().splitlines() if line]

    def per_child(self, task: str) -> Counter[int]:
        """How many times each child of ``task`` ran (by map index)."""
        return Counter(int(parts[1]) for parts in self.lines(task))

    def pids(self, task: str) -> list[int]:
        return [int(parts[2]) for parts in self.lines(task)]

    def totals(self) -> list[int]:
        """Every sum ``total`` computed, in order."""
        return [int(parts[3]) for parts in self.lines("total")]


def run_env(agent_env: dict[str, str], counts: Path, n: int, sleep: float) -> dict[str, str]:
    """The environment of the flow-run processes (and of an agent process)."""
    return {
        **agent_env,
        "HEADRACE_TEST_COUNTS": str(counts),
        "HEADRACE_TEST_N": str(n),
        "HEADRACE_TEST_SLEEP": str(sleep),
        "HEADRACE__AGENT__POLL_INTERVAL": "0.2",
    }


def acknowledged_children(api: Client, run_id: str, slug: str) -> set[int]:
    """The map indices of ``slug``'s children the server holds as successful."""
    return {
        t["map_index"]
        for t in api.get_task_runs(run_id, task_slug=slug)
        if t["map_index"] >= 0 and t["state"] in FINAL_TASK_STATES
    }


def wait_for_children(api: Client, run_id: str, slug: str, at_least: int) -> set[int]:
    """Wait until the server holds ``at_least`` successful children of ``slug``."""
    return set(
        wait_for(
            lambda: (
                (found := acknowledged_children(api, run_id, slug))
                and len(found) >= at_least
                and found
            ),
            90,
            f"{at_least} children of {slug} to succeed",
        )
    )


def run_process(run_id: str) -> int | None:
    """The pid of the ``headrace execute flow-run --id RUN`` process of ``run_id`` (read
    from /proc: the children of a process executor count with their own pids)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"flow-run" in argv and run_id.encode() in argv:
            return int(entry.name)
    return None


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def agent_process(api_url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``headrace agent local start`` as a process of its own (so a test can kill -9 it);
    its output goes to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "headrace", "agent", "local", "start", "--api", api_url],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s: no process of a test outlives it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


def assert_settled_right(
    api: Client,
    run: dict[str, Any],
    counts: Counts,
    shape: Shape,
    n: int,
    acknowledged: set[int],
    ran_before: Counter[int] | None = None,
) -> None:
    """The invariants a user cares about, once the run has finished: it succeeded with the
    plain-Python total, every child ran at least once, no child the server had acknowledged
    as successful (its result checkpointed) ran again after that, and no task run is left
    unfinished."""
    assert run["state"] == "Success", run["state_message"]
    assert counts.totals()[-1] == shape.total(n), counts.totals()
    ran = counts.per_child(shape.counted)
    size = shape.children(n)
    assert sorted(ran) == list(range(size)), (
        f"children that never ran: {set(range(size)) - set(ran)}"
    )
    # ran_before: how often each child had run when it was acknowledged (once, unless the
    # test killed the run several times: a child may run twice before its Success lands)
    again = sorted(i for i in acknowledged if ran[i] > (ran_before or {}).get(i, 1))
    assert not again, f"children that had succeeded ran again: {again}"
    left = {
        (t["task_slug"], t["map_index"]): t["state"]
        for t in api.get_task_runs(run["id"])
        if t["state"] not in FINAL_TASK_STATES
    }
    assert not left, f"task runs left unfinished: {left}"
    children = [
        t for t in api.get_task_runs(run["id"], task_slug=shape.slug) if t["map_index"] >= 0
    ]
    assert len(children) == size
