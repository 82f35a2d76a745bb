"""Long-polled claims: an agent's claim waits until a flow run may have become claimable.

``POST /agents/{id}/claim`` with ``wait`` > 0 claims at once when it can; when nothing is
claimable it waits (up to ``wait`` seconds, at most :data:`MAX_CLAIM_WAIT` = 8 s so that a
request stays short, and no later than the next run's scheduled start) for a write in this
server process that may have made a run claimable, then claims again. Without it an agent
only learns of a new run at its next poll (``agent.poll_interval``, 2 s by default): the
delay between creating a run and its start was that poll, not the work.

What wakes a waiting claim: a committed transaction of this process's database engine that
inserted a flow run or moved one's ``scheduled_start`` (creation, restart, a retry of a lost
run; all of them set it). The engine's events mark the connection when such a statement
runs and the pool's ``checkin`` (after the commit, so the claim that wakes sees the row on
PostgreSQL too) wakes the waiters; a rolled-back transaction wakes nobody. The wait is only
an optimisation: claiming itself is unchanged and atomic (:mod:`headrace.server.domain.claim`),
and with several server processes (PostgreSQL) a run created through another one is found
when the wait ends, as a poll would; the agent never waits longer than its poll interval.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import sqlalchemy as sa

__all__ = ["MAX_CLAIM_WAIT", "ClaimWaiters", "waiters_for"]

#: The longest a claim may wait, in seconds (the ``wait`` of a claim is checked against it).
MAX_CLAIM_WAIT = 8.0

_MARK = "headrace_claimable_write"


class ClaimWaiters:
    """The long-polling claims of one server process and what wakes them.

    ``generation`` counts wake-ups; a claim reads it before claiming and waits only while it
    is unchanged, so a run created between its claim and its wait is not missed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.generation = 0
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def notify(self) -> None:
        """A run may have become claimable: wake every waiting claim (thread-safe)."""
        with self._lock:
            self.generation += 1
            waiting = list(self._waiting)
        for loop, event in waiting:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop is closed: the waiter is gone
                pass

    async def wait(self, seen: int, timeout: float) -> bool:
        """Wait until the generation moves past ``seen`` or ``timeout`` seconds pass;
        True when woken."""
        if timeout <= 0:
            return self.generation != seen
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self.generation != seen:
                return True
            self._waiting.add(entry)
        try:
            await asyncio.wait_for(entry[1].wait(), timeout)
            return True
        except TimeoutError:
            return self.generation != seen
        finally:
            with self._lock:
                self._waiting.discard(entry)

    @property
    def waiting(self) -> int:
        """How many claims wait now."""
        return len(self._waiting)

    def watch(self, engine: sa.Engine) -> None:
        """Wake the waiters after each committed transaction of ``engine`` that inserted a
        flow run or changed one's ``scheduled_start``."""

        def mark(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            head = statement[:40].lstrip().upper()
            if head.startswith("INSERT INTO FLOW_RUNS ") or (
                head.startswith("UPDATE FLOW_RUNS ") and "scheduled_start" in statement
            ):
                conn.info[_MARK] = True

        def forget(conn: Any) -> None:
            conn.info.pop(_MARK, None)

        def checkin(dbapi_connection: Any, record: Any) -> None:
            if record is not None and record.info.pop(_MARK, None):
                self.notify()

        sa.event.listen(engine, "before_cursor_execute", mark)
        sa.event.listen(engine, "rollback", forget)
        sa.event.listen(engine.pool, "checkin", checkin)


_BY_ENGINE: weakref.WeakKeyDictionary[sa.Engine, ClaimWaiters] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def waiters_for(engine: sa.Engine) -> ClaimWaiters:
    """The :class:`ClaimWaiters` of ``engine`` (made and hooked to it on first use)."""
    with _GUARD:
        found = _BY_ENGINE.get(engine)
        if found is None:
            found = _BY_ENGINE[engine] = ClaimWaiters()
            found.watch(engine)
        return found
