"""The fault suite's harness: a real headrace system made of processes that a test kills.

:class:`FaultCluster` starts ``headrace server start`` and ``headrace agent local start`` as
subprocesses on loopback (a free port, the test's own SQLite file or PostgreSQL database,
short heartbeat and reaper intervals), registers ``flows/squares.py`` and lets a test kill
any part (the server, an agent, a flow run's process) with any signal at a chosen moment,
bring it back, and then check what a user cares about (:meth:`FaultCluster.problems`):

- the run ended ``Success`` and ``total`` is the plain-Python answer;
- every child ran at least once;
- no child whose ``Success`` the server had acknowledged (with its checkpoint) ran again;
- no acknowledged ``Success`` was lost (it is still ``Success`` at the end);
- no run of the system is left non-final once it settled.

What ran is read from the events file the flow's tasks append to (see ``flows/squares.py``).
Every process it started (flow-run processes found by their command line) is killed by
PID at :meth:`FaultCluster.close`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from tests.support.processes import free_port

from headrace.client import Client

__all__ = ["FINAL", "Events", "FaultCluster", "Snapshot", "expected_total"]

FLOW = Path(__file__).parent / "flows" / "squares.py"
FINAL = frozenset({"Success", "Failed", "Cancelled", "TimedOut", "TriggerFailed", "Skipped"})


def expected_total(n: int) -> int:
    """What ``total`` must be: the plain-Python answer."""
    return sum(i * i for i in range(n))


@dataclass
class Events:
    """What the flow's tasks did, from the events file (lines after ``since`` only)."""

    starts: Counter[int] = field(default_factory=Counter)
    dones: Counter[int] = field(default_factory=Counter)
    totals: list[tuple[int, int]] = field(default_factory=list)
    items: int = 0
    summing: int = 0
    pids: list[int] = field(default_factory=list)


@dataclass
class Snapshot:
    """What the server had acknowledged at one moment (just before a kill): the task runs
    in a successful state, and how many events had been written by then."""

    succeeded: dict[tuple[str, int], str]
    events_seen: int


class FaultCluster:
    """A server, agents and flow-run processes, each a real process a test may kill."""

    def __init__(
        self,
        root: Path,
        database_url: str,
        *,
        heartbeat_timeout: float = 3.0,
        child_sleep: float = 0.15,
        edge_sleep: float = 0.8,
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.heartbeat_timeout = heartbeat_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.events_file = root / "events"
        self.events_file.touch()
        self.server: subprocess.Popen[bytes] | None = None
        self.agents: dict[str, subprocess.Popen[bytes]] = {}
        self.started: list[subprocess.Popen[bytes]] = []
        self.run_ids: list[str] = []
        self.env = {
            "HEADRACE__HOME_DIR": str(root / "home"),
            "HEADRACE__FLOWS__RESULTS_DIR": str(root / "results"),
            "HEADRACE__CLOUD__REPORT_INTERVAL": "0.1",
            "HEADRACE__CLOUD__HEARTBEAT_INTERVAL": "0.5",
            "HEADRACE__SERVER__HEARTBEAT_TIMEOUT": repr(heartbeat_timeout),
            "HEADRACE__SERVER__SERVICES_INTERVAL": "0.3",
            "HEADRACE__SERVER__SUBMITTED_TIMEOUT": "120",
            "HEADRACE__AGENT__POLL_INTERVAL": "0.2",
            "HEADRACE__AGENT__STOP_GRACE_PERIOD": "5",
            "HEADRACE__LOGGING__LEVEL": "INFO",
            "HEADRACE_FAULT_DIR": str(root),
            "HEADRACE_FAULT_SLEEP": repr(child_sleep),
            "HEADRACE_FAULT_EDGE_SLEEP": repr(edge_sleep),
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        }
        self.client = Client(self.url, retries=8, backoff=0.1)
        self.flow_id: str | None = None

    # --- processes -------------------------------------------------------------------------
    def _spawn(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "headrace", *args],
            env={**os.environ, **self.env},
            stdout=(self.root / log).open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.started.append(process)
        return process

    def start_server(self) -> None:
        """Start (or start again, same port and database) the server and wait for it."""
        assert self.server is None or self.server.poll() is not None, "server already running"
        self.server = self._spawn(
            ["server", "start", "--port", str(self.port), "--database", self.database_url],
            "server.log",
        )
        deadline = time.monotonic() + 60
        while True:
            if self.server.poll() is not None:
                raise RuntimeError(f"server exited early: {self.log('server.log')[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer within 60 s")
            time.sleep(0.1)

    def signal_server(self, sig: int) -> None:
        assert self.server is not None
        self.server.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            self.server.wait(30)

    def start_agent(self, name: str) -> subprocess.Popen[bytes]:
        process = self._spawn(["agent", "local", "start", "--api", self.url], f"agent-{name}.log")
        self.agents[name] = process
        return process

    def signal_agent(self, name: str, sig: int) -> None:
        process = self.agents[name]
        process.send_signal(sig)
        if sig == signal.SIGKILL:
            process.wait(30)

    def run_processes(self, run_id: str) -> list[psutil.Process]:
        """The live processes executing flow run ``run_id`` (``headrace execute flow-run``)."""
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if "flow-run" in cmdline and run_id in cmdline and proc.status() != "zombie":
                found.append(proc)
        return found

    def signal_run(self, run_id: str, sig: int) -> int:
        """Send ``sig`` to the process running ``run_id``; returns how many got it."""
        procs = self.run_processes(run_id)
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(sig)
        if sig == signal.SIGKILL:
            psutil.wait_procs(procs, timeout=10)
        return len(procs)

    def close(self) -> None:
        for run_id in self.run_ids:
            for proc in self.run_processes(run_id):
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.send_signal(signal.SIGCONT)
                    proc.kill()
        for process in self.started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGCONT)
                    process.kill()
                process.wait(30)
        self.client.close()

    def log(self, name: str) -> str:
        path = self.root / name
        return path.read_text(errors="replace") if path.exists() else ""

    # --- runs ----------------------------------------------------------------------------
    def register(self) -> str:
        from tests.agent.backend_support import register_script

        if self.flow_id is None:
            self.flow_id = register_script(self.client, FLOW, project="faults")
        return self.flow_id

    def create_run(self, n: int = 10, max_retries: int = 0) -> str:
        run = self.client.create_flow_run(
            self.register(), parameters={"n": n}, max_retries=max_retries
        )
        self.run_ids.append(run["id"])
        return str(run["id"])

    def events(self, run_id: str, since: int = 0) -> Events:
        seen = Events()
        lines = self.events_file.read_text().splitlines()[since:]
        for line in lines:
            kind, run, pid, *rest = line.split()
            if run != run_id:
                continue
            seen.pids.append(int(pid))
            if kind == "start":
                seen.starts[int(rest[0])] += 1
            elif kind == "done":
                seen.dones[int(rest[0])] += 1
            elif kind == "total":
                seen.totals.append((int(rest[0]), int(rest[1])))
            elif kind == "items":
                seen.items += 1
            elif kind == "summing":
                seen.summing += 1
        return seen

    def child_pids(self, run_id: str) -> list[tuple[int, int]]:
        """``(child, process)`` of every child of ``run_id`` that finished, in order."""
        pairs = []
        for line in self.events_file.read_text().splitlines():
            kind, run, pid, *rest = line.split()
            if kind == "done" and run == run_id:
                pairs.append((int(rest[0]), int(pid)))
        return pairs

    def event_count(self) -> int:
        return len(self.events_file.read_text().splitlines())

    def wait(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(Exception):
                value = check()
                if value:
                    return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
            time.sleep(0.05)

    def state(self, run_id: str) -> str:
        return str(self.client.get_flow_run(run_id)["state"])

    def wait_final(self, run_id: str, timeout: float = 90.0) -> dict[str, Any]:
        def final() -> dict[str, Any] | None:
            run = self.client.get_flow_run(run_id)
            return run if run["state"] in FINAL else None

        return dict(self.wait(final, timeout, f"flow run {run_id} to finish"))

    def acknowledged(self, run_id: str) -> dict[tuple[str, int], str]:
        """The task runs the server holds in a successful state (mapped children included)."""
        ok = {"Success", "Mapped", "Cached", "Skipped"}
        return {
            (row["task_name"], row["map_index"]): row["state"]
            for row in self.client.get_task_runs(run_id, limit=10000)
            if row["state"] in ok
        }

    def snapshot(self, run_id: str) -> Snapshot:
        return Snapshot(self.acknowledged(run_id), self.event_count())

    def children_acknowledged(self, run_id: str) -> int:
        return sum(1 for (name, i) in self.acknowledged(run_id) if name == "square" and i >= 0)

    # --- the invariants --------------------------------------------------------------------
    def problems(
        self, run_id: str, n: int, snapshots: list[Snapshot], final: dict[str, Any]
    ) -> list[str]:
        """Every broken promise of run ``run_id`` (empty when it kept them all)."""
        found: list[str] = []
        if final["state"] != "Success":
            found.append(f"ended {final['state']}: {final['state_message']}")
        seen = self.events(run_id)
        want = expected_total(n)
        if not seen.totals or seen.totals[-1] != (want, n):
            found.append(f"total {seen.totals[-1:] or 'never computed'}, want ({want}, {n})")
        never = [i for i in range(n) if seen.starts[i] == 0]
        if never:
            found.append(f"children that never ran: {never}")
        stored = self.acknowledged(run_id)
        for snap in snapshots:
            after = self.events(run_id, since=snap.events_seen)
            again = sorted(
                i for (name, i) in snap.succeeded if name == "square" and i >= 0 and after.starts[i]
            )
            if again:
                found.append(f"children acknowledged Success that ran again: {again}")
            lost = sorted(key for key in snap.succeeded if key not in stored)
            if lost:
                found.append(f"acknowledged Success lost: {lost}")
        return found

    def stuck_runs(self) -> list[str]:
        """Runs of this system that are not final (call once it settled)."""
        return [f"{r}: {self.state(r)}" for r in self.run_ids if self.state(r) not in FINAL]
