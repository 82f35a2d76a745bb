"""The executor interface: where the engine's task runs execute.

An executor is started as a context manager around a flow run; ``submit`` schedules a call
whose arguments may hold futures of earlier calls (the executor resolves them before the
call runs) and returns a future; ``wait`` turns a structure of futures into values. An
executor may add ``submit_many`` to hand over many calls in one batch, and says with
``map_chunk_count`` into how many calls the flow runner splits a mapped task's children
(each call runs a contiguous slice of children one after the other).

What the flow runner submits is a :class:`~headrace.engine.contracts.Runnable`: a callable
with the ``task`` it runs (executors name their work after it) and an ``on_worker_lost``
hook (an executor that loses the workers running a call asks it what the call ends in).
Executors take any callable, and use those two only through the protocol.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["CHUNKS_PER_THREAD", "Executor", "check_chunk_size", "chunk_count_for"]

# Chunks per worker thread when an executor splits a map on its own. Two, so a thread
# that finishes early has another chunk to take (balance) while every chunk is still
# handed to a worker at once: dask.distributed holds back a group of more than two tasks
# per thread at the scheduler ("root-ish" queuing) and then releases them one round trip
# at a time, which measurably idles threads (sleep benchmark: 1.12x ideal with two per
# thread, 1.20x with four, on 2 loaded cores).
CHUNKS_PER_THREAD = 2


class Executor(ABC):
    """Base class of executors."""

    @contextmanager
    def start(self) -> Iterator[None]:
        """Set up (and afterwards tear down) whatever the executor runs on."""
        yield

    @abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Schedule ``fn(*args, **kwargs)``; futures inside the arguments are resolved first."""

    def submit_many(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Schedule ``fn(*call)`` for every call; executors may batch this."""
        return [self.submit(fn, *call) for call in calls]

    def map_chunk_count(self, count: int) -> int:
        """Into how many calls to split ``count`` mapped children: one per child here, so an
        executor that runs calls in parallel runs the children in parallel."""
        return count

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        """Schedule ``fn`` over zipped ``iterables``."""
        return self.submit_many(fn, list(zip(*iterables, strict=False)))

    @abstractmethod
    def wait(self, futures: Any) -> Any:
        """The values of ``futures``: a future, or a list/tuple/dict holding futures."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def chunk_count_for(count: int, threads: int | None, chunk_size: int | None) -> int:
    """How many chunks ``count`` mapped children make on ``threads`` worker threads:
    ``ceil(count / chunk_size)`` when a chunk size is set, else ``CHUNKS_PER_THREAD`` per
    thread (never more chunks than children)."""
    if count <= 0:
        return 0
    if chunk_size is not None:
        return math.ceil(count / chunk_size)
    threads = threads or os.cpu_count() or 1
    return min(count, threads * CHUNKS_PER_THREAD)


def check_chunk_size(owner: object, chunk_size: int | None) -> int | None:
    """``chunk_size`` if it is ``None`` or a positive int; an error naming ``owner`` if not."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        from headrace.executors.errors import ExecutorConfigError

        raise ExecutorConfigError(
            f"{type(owner).__name__}: chunk_size must be a positive int or None, not {chunk_size!r}"
        )
    return chunk_size
