"""Executors: where task runs execute (in-process, threads or processes, a Dask cluster)."""

from headrace.executors.base import Executor
from headrace.executors.local import LocalExecutor

__all__ = ["Executor", "LocalExecutor"]
