"""One real dask.distributed ``LocalCluster`` on 127.0.0.1 shared by every test of a session
(starting one costs seconds on this machine), and the executor kinds tests run on."""

from __future__ import annotations

import threading
from typing import Any

EXECUTOR_KINDS = ("local", "threads", "processes", "sync", "dask")

_lock = threading.Lock()
_cluster: Any = None
_users = 0


def acquire_cluster() -> Any:
    """The shared cluster (2 worker processes, 1 thread each), started on first use."""
    global _cluster, _users
    with _lock:
        if _cluster is None:
            import logging
            import warnings

            from distributed import LocalCluster

            with warnings.catch_warnings():  # "port 8787 in use": the HTTP port falls back
                warnings.simplefilter("ignore", UserWarning)
                _cluster = LocalCluster(
                    n_workers=2,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                    processes=True,
                    silence_logs=logging.ERROR,
                )
        _users += 1
        return _cluster


def release_cluster() -> None:
    """Close the shared cluster once its last user is done with it."""
    global _cluster, _users
    with _lock:
        _users -= 1
        if _users == 0 and _cluster is not None:
            _cluster.close()
            _cluster = None


def make_executor(kind: str, cluster: Any = None) -> Any:
    """A fresh executor of ``kind``; ``"dask"`` joins ``cluster``."""
    from headrace.executors import DaskExecutor, LocalDaskExecutor, LocalExecutor

    if kind == "local":
        return LocalExecutor()
    if kind in ("threads", "processes", "sync"):
        return LocalDaskExecutor(kind, num_workers=2)
    if kind == "dask":
        return DaskExecutor(address=cluster.scheduler_address)
    raise ValueError(f"unknown executor kind {kind!r}")
