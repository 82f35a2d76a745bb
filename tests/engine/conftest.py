"""Engine fixtures: every behaviour test runs on each executor listed in EXECUTOR_PARAMS.

The executors work (issue 3) adds "threads", "processes" and "dask" here; tests using the
``executor`` fixture must therefore use picklable, module-level tasks and observe side
effects through results or files, never through a closure mutated inside a task.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

EXECUTOR_PARAMS = ["local", "threads", "processes", "dask"]


def make_executor(kind: str, cluster: Any = None) -> Any:
    """A fresh executor instance of ``kind`` ("dask" joins ``cluster``)."""
    from executors.cluster import make_executor as make

    return make(kind, cluster)


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    """The session's real LocalCluster on 127.0.0.1 (shared with tests/executors)."""
    from executors.cluster import acquire_cluster, release_cluster

    yield acquire_cluster()
    release_cluster()


@pytest.fixture(params=EXECUTOR_PARAMS)
def executor(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An executor instance to pass as ``flow.run(executor=executor)``: in-process, dask
    threads, dask processes (2 workers, started per test), or the shared dask cluster."""
    cluster = request.getfixturevalue("dask_cluster") if request.param == "dask" else None
    yield make_executor(request.param, cluster)
