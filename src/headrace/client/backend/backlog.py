"""``Backlog``: the queue between the engine's threads and a reporter's sending thread.

The engine puts a small tuple on it twice per task run, so ``put`` must cost next to
nothing: a plain deque append, no lock, while there is room. Bounded so a server that cannot
keep up slows the engine down (backpressure) instead of growing memory without end, and
never drops an item.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from typing import Any

__all__ = ["Backlog"]


class Backlog:
    """A bounded FIFO for many producers and one consumer. ``put`` is a plain deque append
    (no lock: the engine calls it twice per task run) unless the backlog is full; then it
    waits until the consumer has taken items (backpressure, never a dropped item)."""

    __slots__ = ("items", "limit", "room")

    def __init__(self, limit: int) -> None:
        self.items: deque[Any] = deque()
        self.limit = max(1, limit)
        self.room = threading.Condition()

    def put(self, item: Any) -> None:
        if len(self.items) >= self.limit:
            with self.room:
                while len(self.items) >= self.limit:
                    self.room.wait()
        self.items.append(item)

    def take_all(self) -> list[Any]:
        """Everything queued now, oldest first."""
        return self.take(None)

    def take(self, limit: int | None) -> list[Any]:
        """The oldest ``limit`` items queued now (all of them for None), oldest first."""
        taken: list[Any] = []
        pop = self.items.popleft
        with contextlib.suppress(IndexError):
            if limit is None:
                while True:
                    taken.append(pop())
            else:
                for _ in range(limit):
                    taken.append(pop())
        if taken:
            with self.room:
                self.room.notify_all()
        return taken

    def qsize(self) -> int:
        return len(self.items)

    def empty(self) -> bool:
        return not self.items
