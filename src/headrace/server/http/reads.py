"""Where a read route's database work runs: on the event loop, or in the thread pool.

A plain ``def`` route runs in a worker thread, so that a request waiting on the database
does not hold up the others. With SQLite there is no such wait for a bounded read: in WAL
mode readers do not wait for writers, and the work is the interpreter's own (SQLite runs in
this process and the rows become Python objects), which one thread at a time can do
anyway. The thread then costs instead of helping: under load the event loop and the worker
hand the interpreter lock back and forth several times per request. Measured with 50
clients on list routes (2 cores, ``python bench/backend.py --runs 0 --children 0
--lists``): 2.6 ms of server CPU per request in the loop against 4-5 ms through a thread,
and p99 latency 140-175 ms against 260-300 ms.

So a read that is cheap by construction (a page by key or cursor, bounded by its limit)
runs on the loop when the database is SQLite in WAL mode (:attr:`Database.readers_never_wait`;
a SQLite file left in rollback-journal mode makes readers wait for writers); everything
else, and every read on PostgreSQL (whose answers travel over a socket: the loop must not
wait on them), goes to the thread pool as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from headrace.server.db.database import Database

__all__ = ["INLINE_OFFSET", "run_read"]

P = ParamSpec("P")
R = TypeVar("R")

#: Largest ``offset`` a read may skip on the loop: SQLite walks the rows it skips.
INLINE_OFFSET = 5_000


async def run_read(
    db: Database, cheap: bool, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> R:
    """``fn(*args, **kwargs)``: on the loop when ``db``'s readers never wait (SQLite in WAL
    mode) and the caller says the read is ``cheap`` (bounded, by an index), in the thread
    pool otherwise."""
    if cheap and db.readers_never_wait:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)
