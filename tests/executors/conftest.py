"""Executor fixtures: the conformance suite runs on every executor kind; Dask tests share
one real LocalCluster on 127.0.0.1 with the engine tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from executors.cluster import EXECUTOR_KINDS, acquire_cluster, make_executor, release_cluster


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    yield acquire_cluster()
    release_cluster()


@pytest.fixture(params=EXECUTOR_KINDS)
def any_executor(request: pytest.FixtureRequest) -> Any:
    """A fresh, not yet started executor of each kind."""
    cluster = request.getfixturevalue("dask_cluster") if request.param == "dask" else None
    return make_executor(request.param, cluster)
