"""``LocalExecutor``: runs each call at once, in this thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headrace.executors.base import Executor

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    """Sequential and in-process: a "future" is the call's value itself."""

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    def wait(self, futures: Any) -> Any:
        return futures

    def map_chunk_count(self, count: int) -> int:
        """One chunk: the children run one after the other here anyway."""
        return 1 if count else 0
