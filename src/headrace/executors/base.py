"""The executor interface: where the engine's task runs execute.

An executor is started as a context manager around a flow run; ``submit`` schedules a call
whose arguments may hold futures of earlier calls (the executor resolves them before the
call runs) and returns a future; ``wait`` turns a structure of futures into values. An
executor may add ``submit_many`` to hand over a mapped task's children in one batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["Executor"]


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

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        """Schedule ``fn`` over zipped ``iterables``."""
        return self.submit_many(fn, list(zip(*iterables, strict=False)))

    @abstractmethod
    def wait(self, futures: Any) -> Any:
        """The values of ``futures``: a future, or a list/tuple/dict holding futures."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
