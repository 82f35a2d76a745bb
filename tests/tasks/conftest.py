"""The task library's tests run on every executor, with the engine tests' fixtures."""

from tests.engine.conftest import dask_cluster, executor

__all__ = ["dask_cluster", "executor"]
