"""DaskEnvironment joins an existing dask.distributed cluster at ``address`` (the session's
shared cluster of worker processes) and the tasks run in those workers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from executors.cluster import acquire_cluster, release_cluster
from headrace import task
from headrace.environments.execution import DaskEnvironment
from headrace.storage import Local
from support.flows import load_roundtrip_flow, outcome


@pytest.fixture
def cluster() -> Iterator[Any]:
    yield acquire_cluster()
    release_cluster()


@pytest.mark.dask
def test_joins_a_running_cluster(cluster: Any, tmp_path: Path) -> None:
    flow = load_roundtrip_flow()
    flow.add_task(task(os.getpid, name="worker pid"))
    storage = Local(directory=tmp_path)
    location = storage.add_flow(flow)
    env = DaskEnvironment(address=cluster.scheduler_address)
    state = env.execute(storage, location)
    assert outcome(state)["total"] == 18
    pids = {s.result for t, s in state.result.items() if t.name == "worker pid"}
    assert len(pids) == 1 and os.getpid() not in pids
