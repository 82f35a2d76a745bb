"""A dask worker killed in the middle of a map: the cluster runs the lost chunks again
elsewhere (the one that was running, and finished ones whose results were only in the
dead worker's memory), and no child the server had recorded as successful, its result
checkpointed, runs again: each chunk asks the server before running its children
(:mod:`headrace.client.backend.recall`).

Real parts: a live server on SQLite, a ``BackendFlowRunner`` in this process on a real
dask.distributed ``LocalCluster`` (2 worker processes under nannies, 127.0.0.1), SIGKILL
of a worker process once it has run children, results checkpointed to files, executions
counted in files by the children themselves (see ``restart_flows/squares.py``).
"""

from __future__ import annotations

import logging
import os
import runpy
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agent import backend_support
from tests.faults.restart_support import (
    FLOWS,
    SHAPES,
    Counts,
    acknowledged_children,
    assert_settled_right,
    run_env,
)

from headrace.client import Client
from headrace.client.backend import BackendFlowRunner
from headrace.core.flow import Flow
from headrace.executors import DaskExecutor

# fixtures of the live server, its database and the run processes' environment
agent_env = backend_support.agent_env
api = backend_support.api
backend_server = backend_support.backend_server
sqlite_template = backend_support.sqlite_template
sqlite_url = backend_support.sqlite_url

N = 40
SLEEP = 0.15


@pytest.fixture
def local_cluster(
    agent_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """A LocalCluster whose worker processes count into ``tmp_path / "counts"`` (they
    inherit this environment when they start, and again when a nanny restarts one)."""
    from distributed import LocalCluster

    for name, value in run_env(agent_env, tmp_path / "counts", N, SLEEP).items():
        monkeypatch.setenv(name, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        local = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    try:
        yield local
    finally:
        local.close()


def _flow(client: Client, script: str) -> tuple[Flow, str]:
    """A flow loaded from its script (so its code travels to the workers by value), and
    registered."""
    namespace = runpy.run_path(str(FLOWS / script), run_name="__headrace_flow__")
    flow = namespace["flow"]
    return flow, client.register(flow, project_name="tests", labels=[], build=False)


@pytest.mark.parametrize(
    ("shape_name", "chunk_size"),
    [("map", None), ("map", 1), ("chained", None)],
    ids=["default-chunks", "chunk_size=1", "chained-maps"],
)
def test_a_worker_killed_mid_map_reruns_no_recorded_child(
    api: Client,
    local_cluster: Any,
    tmp_path: Path,
    shape_name: str,
    chunk_size: int | None,
) -> None:
    shape = SHAPES[shape_name]
    counts = Counts(tmp_path / "counts")
    flow, flow_id = _flow(api, shape.script)
    run = api.create_flow_run(flow_id)
    executor = DaskExecutor(address=local_cluster.scheduler_address, chunk_size=chunk_size)
    kill: dict[str, Any] = {}

    def kill_a_busy_worker() -> None:
        """Once the server holds 8 children, kill -9 the worker that ran the most."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not kill:
            if len(acknowledged_children(api, run["id"], shape.slug)) >= 8:
                pids = set(executor.client.run(os.getpid).values())
                ran = [p for p in counts.pids(shape.counted) if p in pids]
                victim = max(set(ran), key=ran.count)
                kill["acknowledged"] = acknowledged_children(api, run["id"], shape.slug)
                os.kill(victim, signal.SIGKILL)
                kill["pid"] = victim
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    state = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run(executor=executor)
    killer.join(30)
    assert "pid" in kill, "no worker was killed"
    assert state.is_successful(), {t.name: s for t, s in state.result.items()}
    final = api.get_flow_run(run["id"])
    acknowledged: set[int] = kill["acknowledged"]
    assert len(acknowledged) < N, "the kill came after the map"
    assert_settled_right(api, final, counts, shape, N, acknowledged)
    # the dead worker had recorded children: they were not lost, and not run again
    by_victim = {int(p[1]) for p in counts.lines(shape.counted) if int(p[2]) == kill["pid"]}
    assert by_victim & acknowledged, "the killed worker had no recorded child to lose"
    # the marks of which chunks started are the attempt's own: gone once it ended
    results = Path(os.environ["HEADRACE__FLOWS__RESULTS_DIR"])
    assert list(results.rglob("*.pack")), f"no checkpoints under {results}"
    assert list(results.rglob("chunks-*.started")) == []
