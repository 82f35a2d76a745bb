"""``ServerRecall``: a chunk of mapped children asks the server which of them already
finished before it runs them.

A dask cluster runs a dead worker's calls again elsewhere: the call that was running, and
finished calls whose results lived only in that worker's memory. For a chunk of mapped
children that means running children again that had finished, their side effects
included. Before a chunk runs (see :class:`~headrace.engine.chunk_runner.ChunkRunner`), the
backend runner's :class:`ServerRecall` reads the server's record of the chunk's children
(one request for the chunk's range of map indices) and hands back the successful ones whose
persisted result can still be found; the chunk reuses those states, reading their results
from the checkpoints, and runs only the rest.

It asks only where a worker can die on its own: in a process other than the runner's (a
dask worker, a process pool), and only for a chunk that starts for the second time in the
attempt (marked in a file beside the checkpoints, see :class:`ServerRecall`). The
in-process executors and in-process clusters, and every chunk's first start, pay no
request.

What remains possible: a child whose ``Success`` had not reached the server when its worker
died (workers report in batches every ``cloud.report_interval`` seconds) runs again; so does
a child whose result was not persisted (checkpointing off): its result lived only in the
lost worker's memory. A worker on another machine that does not share the checkpoint
directory (where checkpoints could not be read back either) cannot see that a chunk started
before, so its children run again. A task that is not mapped is not asked for: a cluster
that recomputes one whose result was lost with its worker runs it again. A server that
cannot be reached makes the chunk run every child (at least once, never lost).
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from headrace.client.backend.states import state_from_json
from headrace.engine.state import State
from headrace.utilities.logging import get_logger

__all__ = ["SUCCESSFUL", "ServerRecall"]

logger = get_logger("backend.recall")
# The server's names of successful task-run states (Mapped is a parent's, never a child's).
SUCCESSFUL = ("Success", "Cached", "Skipped")
PAGE = 10_000


class ServerRecall:
    """The recall of a backend run: ``recall(slug, start, count)`` -> the states of the
    children ``start`` .. ``start + count - 1`` of the task with ``slug`` that the server
    holds as successful, with a result that can be read (``None`` for the others), or
    ``None`` when there is nothing to ask: in the runner's own process, and for a chunk
    that runs for the first time in this attempt.

    Which chunks ran before is kept under ``markers`` (the run's checkpoint directory,
    which the workers share with the runner, as they share checkpoints): one sparse file
    per mapped task and attempt, one byte per chunk at its first map index, set when the
    chunk starts -- a few microseconds, where asking the server costs milliseconds, which
    with ``chunk_size=1`` would be per child. Without ``markers`` (a flow with its own
    result) every chunk asks."""

    __slots__ = ("api_url", "flow_run_id", "home_pid", "markers", "token")

    def __init__(self, api_url: str, flow_run_id: str, markers: str | None = None) -> None:
        self.api_url = api_url
        self.flow_run_id = flow_run_id
        self.home_pid = os.getpid()
        self.markers = markers
        self.token = uuid.uuid4().hex[:16]  # this attempt's: a restart starts unmarked

    def __repr__(self) -> str:
        return f"<ServerRecall flow run {self.flow_run_id} at {self.api_url}>"

    def __getstate__(self) -> tuple[str, str, int, str | None, str]:
        return (self.api_url, self.flow_run_id, self.home_pid, self.markers, self.token)

    def __setstate__(self, state: tuple[str, str, int, str | None, str]) -> None:
        self.api_url, self.flow_run_id, self.home_pid, self.markers, self.token = state

    def marker_path(self, slug: str) -> str | None:
        """The file marking which chunks of ``slug`` started in this attempt."""
        if self.markers is None:
            return None
        return os.path.join(self.markers, self.flow_run_id, slug, f"chunks-{self.token}.started")

    def remove_markers(self, slugs: Iterable[str]) -> None:
        """Delete this attempt's marker files (the runner, at the end of the run)."""
        for slug in slugs:
            path = self.marker_path(slug)
            if path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def __call__(self, slug: str, start: int, count: int) -> Sequence[State | None] | None:
        if count <= 0 or os.getpid() == self.home_pid or self._first_start(slug, start):
            return None
        try:
            rows = self._rows(slug, start, start + count - 1)
        except Exception as exc:  # the server is away: run the children (at least once)
            logger.warning(
                "flow run %s: could not ask which children of %s already finished: %s",
                self.flow_run_id,
                slug,
                exc,
            )
            return None
        found: list[State | None] = [None] * count
        for row in rows:
            state = _readable(row)
            if state is not None:
                found[row["map_index"] - start] = state
        if any(s is not None for s in found):
            reused = sum(1 for s in found if s is not None)
            logger.info(
                "flow run %s: %d of children %d-%d of %s had finished before; reusing them",
                self.flow_run_id,
                reused,
                start,
                start + count - 1,
                slug,
            )
        return found

    def _first_start(self, slug: str, start: int) -> bool:
        """Mark the chunk starting at ``start`` as started; True when it had not started
        before in this attempt (nothing of it can be on the server). False when unsure."""
        path = self.marker_path(slug)
        if path is None:
            return False
        try:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            except FileNotFoundError:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            try:
                if os.pread(fd, 1, start) == b"\1":
                    return False
                os.pwrite(fd, b"\1", start)
                return True
            finally:
                os.close(fd)
        except OSError:
            return False

    def _rows(self, slug: str, first: int, last: int) -> list[dict[str, Any]]:
        client = _client(self.api_url)
        rows: list[dict[str, Any]] = []
        while True:
            page = client.get_task_runs(
                self.flow_run_id,
                task_slug=slug,
                state=list(SUCCESSFUL),
                min_map_index=first,
                max_map_index=last,
                limit=PAGE,
                offset=len(rows),
            )
            rows.extend(page)
            if len(page) < PAGE:
                return rows


_CLIENTS: dict[str, Any] = {}  # api url -> this process's client (one connection pool)
_LOCK = threading.Lock()


def _client(api_url: str) -> Any:
    """This process's client of ``api_url``, made once: a new client per chunk cost ~10 ms
    (a connection and a TLS context), as much as a small child's work."""
    client = _CLIENTS.get(api_url)
    if client is None:
        from headrace.client import Client

        with _LOCK:
            client = _CLIENTS.get(api_url)
            if client is None:
                client = _CLIENTS[api_url] = Client(api_url, retries=2)
    return client


def _forget_after_fork() -> None:
    """A forked child must not share its parent's connections."""
    global _LOCK
    _LOCK = threading.Lock()
    _CLIENTS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _readable(row: dict[str, Any]) -> State | None:
    """The successful state a server row describes, if its result can still be read (a
    result that is gone means the child runs again rather than failing its reduce)."""
    state = state_from_json(row["state"], row["state_message"], row["state_serialized"])
    if not state.is_successful():
        return None  # its result was not persisted: nothing to reuse
    persisted = state.persisted
    if persisted is not None and isinstance(persisted.location, str):
        try:
            if not persisted.exists(persisted.location):
                return None
        except Exception:
            return None
    return state
