"""Errors raised by the executors layer."""

from __future__ import annotations

from headrace.exceptions import HeadraceError

__all__ = ["ClusterClassError", "ExecutorConfigError", "ExecutorError", "WorkerLostError"]


class ExecutorError(HeadraceError, RuntimeError):
    """An executor could not run what it was given (its cluster or pool broke)."""


class ExecutorConfigError(HeadraceError, ValueError):
    """An executor was built with a bad setting, or used before ``start()``; the message
    names the executor and the setting."""


class ClusterClassError(HeadraceError, ImportError):
    """``DaskExecutor(cluster_class=...)`` names something that cannot be imported or is not
    a class."""


class WorkerLostError(ExecutorError):
    """A call could not finish because the workers running it kept dying."""
