"""Executors: where task runs execute (in-process, threads or processes, a Dask cluster).

The Dask executors load on first use, so a flow on ``LocalExecutor`` never imports dask.
"""

from typing import TYPE_CHECKING, Any

from headrace.executors.base import Executor
from headrace.executors.local import LocalExecutor

if TYPE_CHECKING:
    from headrace.executors.dask_distributed import DaskExecutor
    from headrace.executors.dask_local import LocalDaskExecutor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor"]

_LAZY = {
    "DaskExecutor": "headrace.executors.dask_distributed",
    "LocalDaskExecutor": "headrace.executors.dask_local",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'headrace.executors' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
