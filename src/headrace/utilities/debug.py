"""Prefect's debugging aids: ``is_serializable(obj)``, and ``with raise_on_exception():``
where a task's error escapes ``flow.run()`` instead of ending the task ``Failed`` (for
tests and a debugger's post-mortem).

Inside the block the run context carries ``raise_on_exception``; the engine then raises
the task's exception (wrapped in :class:`TaskRaised`, a ``BaseException``, so the
runners' own error handling lets it through) and the block unwraps it, so the caller
sees the original exception with its traceback. Meant for in-process runs (the default
``LocalExecutor``); on other executors the error reaches the caller as the executor
reports it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from headrace.runcontext import context, current

__all__ = ["TaskRaised", "is_serializable", "raise_on_exception", "raising"]


class TaskRaised(BaseException):
    """Carries a task's exception out of the runners inside ``raise_on_exception()``."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(exc)
        self.exc = exc


@contextmanager
def raise_on_exception() -> Iterator[None]:
    """Let the first task error of a run inside the block escape to the caller."""
    try:
        with context(raise_on_exception=True):
            yield
    except TaskRaised as raised:
        raise raised.exc from None


def raising() -> bool:
    """Whether the current run was started inside ``raise_on_exception()``."""
    return bool(current().get("raise_on_exception"))


def is_serializable(obj: Any, raise_on_error: bool = False) -> bool:
    """Whether ``obj`` survives a cloudpickle round trip (how flows and results travel to
    other processes); with ``raise_on_error`` the pickling error is raised instead."""
    import cloudpickle

    try:
        cloudpickle.loads(cloudpickle.dumps(obj))
    except Exception:
        if raise_on_error:
            raise
        return False
    return True
