"""The randomized fault run: N kills of a random process at a random moment, each against
a fresh flow run of a system of real processes (a server on SQLite, two local agents, the
runs' processes). After each fault the system is brought back (a killed agent or server
is started again, a stopped one continued) and the run is left to settle; a run that ended
Failed or Cancelled is restarted as a user would (at most three times). Then every promise
of :meth:`FaultCluster.problems` is checked and a summary is printed:

    HEADRACE_CHAOS_KILLS=200 python -m pytest tests/faults -m chaos -q -s

``HEADRACE_CHAOS_SEED`` repeats a run's choices, ``HEADRACE_CHAOS_DIR`` keeps the logs and
events there. Deselected unless ``-m`` names ``chaos`` (see this folder's conftest).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.faults.harness import FaultCluster

N = 8
KILLS = int(os.environ.get("HEADRACE_CHAOS_KILLS", "20"))
TARGETS = (
    "run:SIGKILL",
    "run:SIGTERM",
    "agent:SIGKILL",
    "agent+run:SIGKILL",
    "server:SIGKILL-short",
    "server:SIGKILL-long",
    "server:SIGSTOP",
)


def _agent_of(cluster: FaultCluster, run_id: str) -> str:
    """The agent whose process started the run's process (else a random one): its parent,
    or its grandparent when the run was forked from the agent's warm-start template."""
    procs = cluster.run_processes(run_id)
    parents: set[int] = set()
    for proc in procs:
        try:
            parent = proc.parent()
            parents.add(proc.ppid())
            if parent is not None:
                parents.add(parent.ppid())
        except Exception:  # the process ended meanwhile
            continue
    for name, process in cluster.agents.items():
        if process.pid in parents:
            return name
    return random.choice(sorted(cluster.agents))


def _fault(cluster: FaultCluster, run_id: str, target: str) -> None:
    timeout = cluster.heartbeat_timeout
    if target == "run:SIGKILL":
        cluster.signal_run(run_id, signal.SIGKILL)
    elif target == "run:SIGTERM":
        cluster.signal_run(run_id, signal.SIGTERM)
    elif target.startswith("agent"):
        name = _agent_of(cluster, run_id)
        cluster.signal_agent(name, signal.SIGKILL)
        if target.startswith("agent+run"):
            cluster.signal_run(run_id, signal.SIGKILL)
        cluster.start_agent(name)
    elif target == "server:SIGSTOP":
        cluster.signal_server(signal.SIGSTOP)
        time.sleep(timeout + 1)
        cluster.signal_server(signal.SIGCONT)
    else:
        cluster.signal_server(signal.SIGKILL)
        time.sleep(0.5 if target.endswith("short") else timeout + 1)
        cluster.start_server()


def _settle(cluster: FaultCluster, run_id: str) -> tuple[dict | None, int]:
    """Wait for the run's final state; restart a failed or cancelled one (up to 3 times).
    None: it did not finish within two minutes (stuck)."""
    restarts = 0
    try:
        final = cluster.wait_final(run_id, 120)
        while final["state"] in ("Failed", "Cancelled") and restarts < 3:
            restarts += 1
            cluster.client.restart_flow_run(run_id)
            final = cluster.wait_final(run_id, 120)
    except AssertionError:
        return None, restarts
    return final, restarts


def _story(cluster: FaultCluster, run_id: str) -> str:
    """A stuck run's state history and the tail of the agents' logs, to tell why."""
    states = cluster.client.get_flow_run_states(run_id)
    lines = [f"{s['name']}: {(s['message'] or '')[:160]}" for s in states[-8:]]
    for name in sorted(cluster.agents):
        lines += cluster.log(f"agent-{name}.log").splitlines()[-5:]
    return "\n    ".join(lines)


@pytest.mark.chaos
@pytest.mark.timeout(600 + KILLS * 120)  # each kill is bounded well below that
def test_random_kills(tmp_path: Path, sqlite_url: str) -> None:
    kills = KILLS
    seed = int(os.environ.get("HEADRACE_CHAOS_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    root = Path(os.environ.get("HEADRACE_CHAOS_DIR") or tmp_path / "chaos")
    cluster = FaultCluster(root, sqlite_url, child_sleep=0.1, edge_sleep=0.5)
    by_target: Counter[str] = Counter()
    wrong: list[str] = []
    duplicated: list[str] = []
    lost: list[str] = []
    restarts = 0
    wrong_success: list[str] = []  # the worst kind: Success with a wrong answer
    stuck_now: list[str] = []
    try:
        cluster.start_server()
        cluster.start_agent("a")
        cluster.start_agent("b")
        for k in range(kills):
            run_id = cluster.create_run(N, max_retries=2)
            time.sleep(rng.uniform(0.0, 3.0))  # a run takes about 3 s from its creation
            target = rng.choice(TARGETS)
            by_target[target] += 1
            snap = cluster.snapshot(run_id)
            state = cluster.state(run_id)
            _fault(cluster, run_id, target)
            final, again = _settle(cluster, run_id)
            restarts += again
            print(f"kill {k}: {target} while {state} -> {final and final['state']}", flush=True)
            if final is None:
                stuck_now.append(
                    f"{run_id} ({target} while {state}):\n    {_story(cluster, run_id)}"
                )
                continue
            found = cluster.problems(run_id, N, [snap], final)
            if found and final["state"] == "Success":
                wrong_success.append(run_id)
            for problem in found:
                line = f"kill {k} ({target} while {state}), run {run_id}: {problem}"
                if "ran again" in problem:
                    duplicated.append(line)
                elif "lost" in problem:
                    lost.append(line)
                else:
                    wrong.append(line)
        time.sleep(cluster.heartbeat_timeout)
        stuck = stuck_now + [
            r for r in cluster.stuck_runs() if r.split(":")[0] not in str(stuck_now)
        ]
    finally:
        cluster.close()
    wrong_runs = len({line.split(", run ")[1].split(":")[0] for line in wrong})
    print(
        f"\nchaos summary: seed {seed}; runs {len(cluster.run_ids)}; kills {kills} "
        f"({', '.join(f'{t} {c}' for t, c in sorted(by_target.items()))}); restarts by the "
        f"user {restarts}; wrong outcomes {wrong_runs} (of them Success with a wrong answer "
        f"{len(wrong_success)}); stuck runs {len(stuck)}; lost "
        f"acknowledged states {len(lost)}; acknowledged children run again {len(duplicated)}"
    )
    for line in [*wrong, *lost, *duplicated, *stuck][:40]:
        print("  " + line)
    assert (wrong, stuck, lost, duplicated) == ([], [], [], [])
