"""``Reporter``: ships a flow run's state changes and log records to the server in batches.

The engine only appends small tuples to a bounded queue (a full queue makes the engine wait:
backpressure, never a dropped state). A background thread drains the queue every
``cloud.report_interval`` seconds, or as soon as ``FLUSH_AT`` task states are waiting (so a
big map is reported while it runs, not after), into batched reports
(``POST /flow_runs/{id}/report``, task states in the compact ``task_states`` rows), so a
10,000-child map costs a handful of requests, not tens of thousands. Another thread posts
the batches in order, one at a time, so the next batch is built while the server applies
the last one (the server never waits for the runner to encode). Each batch has a
``batch_id`` and is retried unchanged with backoff while the server is unreachable or
answers 5xx, so a server restart loses nothing and applies nothing twice. A second thread
sends heartbeats every ``cloud.heartbeat_interval`` seconds (not in a worker process's
reporter, see :mod:`~headrace.client.backend.worker`: the runner's process beats). Either
answer may say the run was cancelled: then ``cancel_requested`` is set and ``on_cancel`` is
called once.

Two more answers matter to the runner. A final flow state the server refuses because the
run's task runs have not all finished (409 ``unfinished_task_runs``) is kept in ``refused``:
the runner ends the run ``Failed`` (an engine error, never a silent ``Success``). A run the
server ended meanwhile (the reaper failed it, a user or an agent did) while this runner had
not sent a final state is kept in ``ended_elsewhere``, logged once saying why, and stops the
runner through ``on_cancel``: its work can no longer count.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from headrace.client.backend.backlog import Backlog
from headrace.client.backend.states import state_parts, state_to_json
from headrace.client.errors import ApiError, ClientError
from headrace.engine.state import State
from headrace.utilities.logging import get_logger
from headrace.wire.limits import MAX_BATCH
from headrace.wire.names import FINISHED_STATE_NAMES

__all__ = ["Reporter", "log_record", "overtaken"]

logger = get_logger("backend.reporter")
FLUSH_AT = 2000
_STOP = object()
_ENDED = FINISHED_STATE_NAMES
_OVERTAKEN: set[str] = set()  # flow runs this process's runner was overtaken in


def overtaken(flow_run_id: str) -> bool:
    """Whether this process's runner of ``flow_run_id`` found the run ended or retried
    without it: nothing more may be recorded for the run from this process (its states
    would land in the next attempt, or overwrite how the run really ended)."""
    return flow_run_id in _OVERTAKEN


def _flow_item(state: State) -> tuple[str, State]:
    return ("f", state)


class Reporter:
    """Batches and sends what happens in one flow run; thread-safe producers, one sender."""

    def __init__(
        self,
        client: Any,
        flow_run_id: str,
        *,
        interval: float | None = None,
        heartbeat_interval: float | None = None,
        max_queue: int | None = None,
        final_timeout: float | None = None,
        heartbeat_client: Any = None,
        on_cancel: Callable[[], None] | None = None,
        heartbeats: bool = True,
    ) -> None:
        from headrace.configuration import config

        cloud = config.get("cloud", {})
        self.client = client
        self.heartbeat_client = heartbeat_client or client
        self.flow_run_id = flow_run_id
        self.interval = float(cloud.get("report_interval", 0.5) if interval is None else interval)
        self.heartbeat_interval = float(
            cloud.get("heartbeat_interval", 10.0)
            if heartbeat_interval is None
            else heartbeat_interval
        )
        self.final_timeout = float(
            cloud.get("final_flush_timeout", 300.0) if final_timeout is None else final_timeout
        )
        size = int(cloud.get("report_queue_size", 200_000) if max_queue is None else max_queue)
        self.queue = Backlog(size)
        self.on_cancel = on_cancel
        self.cancel_requested = threading.Event()
        self.requests_sent = 0
        self.items_sent = 0
        self.task_states_sent = 0
        self.dropped_batches = 0
        #: Batches refused for want of a valid key (401/403).
        self.refused_batches = 0
        self._closing = threading.Event()
        self._done = threading.Event()
        self._wake = threading.Event()
        self._sender = threading.Thread(
            target=self._send_loop, name="headrace-reporter", daemon=True
        )
        # built batches, in order, for the poster; bounded: a server that does not answer
        # holds the builder back, and so the engine (backpressure through the backlog)
        self._outbox: queue.Queue[Any] = queue.Queue(maxsize=2)
        self._poster = threading.Thread(
            target=self._post_loop, name="headrace-reporter-post", daemon=True
        )
        self._gave_up = threading.Event()  # the poster stopped: the server never took a batch
        self._posting = False  # the poster is sending a batch now
        self._beater = threading.Thread(
            target=self._beat_loop, name="headrace-heartbeat", daemon=True
        )
        self._unsent: list[dict[str, Any]] = []  # the batch the poster gave up on at close
        #: Why the server refused this run's final flow state (unfinished task runs), if it did.
        self.refused: str | None = None
        #: The state the server ended this run in without this runner (reaper, user, agent).
        self.ended_elsewhere: str | None = None
        self._final_sent = False
        self._saw_running = False
        self._attempt: int | None = None  # the run's run_count when this runner saw it run
        self._queued = 0  # task states since the last early wake (approximate across threads)
        self.heartbeats = heartbeats  # False for a worker's reporter: the runner beats
        # Secret values masked in the errors that failed states carry (see logs.secret_values).
        self.secrets: list[str] = []
        self._threads = {self._sender, self._poster}
        if heartbeats:
            self._threads.add(self._beater)

    # --- producers (engine threads) ---------------------------------------------------------
    def task_state(
        self, slug: str, map_index: int, state: State, name: str, tags: list[str] | None
    ) -> None:
        self.queue.put(("t", slug, map_index, state, name, tags))
        self._queued += 1
        if self._queued >= FLUSH_AT:  # send while the flow goes on, not only every interval
            self._queued = 0
            self._wake.set()

    def flow_state(self, state: State) -> None:
        """Queue a state of the flow run; its start (Running) is sent at once rather than
        at the next ``cloud.report_interval``: it is what a user waits for after creating
        a run (once a run, so batching loses nothing)."""
        self.queue.put(_flow_item(state))
        if type(state).__name__ == "Running":
            self._wake.set()

    def log(self, record: dict[str, Any]) -> None:
        self.queue.put(("l", record))

    def is_own_thread(self) -> bool:
        """True in the reporter's threads (their log records must not be queued)."""
        return threading.current_thread() in self._threads

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> Reporter:
        self._poster.start()
        self._sender.start()
        if self.heartbeats:
            self._beater.start()
        return self

    def flush(self) -> None:
        """Ask the sender to send what is queued now (does not wait)."""
        self._wake.set()

    def close(self) -> bool:
        """Send everything still queued and stop; True when all of it reached the server."""
        self._closing.set()
        self.queue.put(_STOP)
        self._wake.set()
        deadline = time.monotonic() + self.final_timeout + 5
        self._sender.join(self.final_timeout + 5)
        self._poster.join(max(0.0, deadline - time.monotonic()))
        self._done.set()  # heartbeats go on while the final flush waits for the server
        if self.heartbeats:
            self._beater.join(5)
        done = (
            not self._sender.is_alive()
            and not self._poster.is_alive()
            and not self._unsent
            and self.queue.empty()
            and self._outbox.empty()
        )
        if not done:
            logger.error(
                "flow run %s: some states/logs could not be sent to %s",
                self.flow_run_id,
                getattr(self.client, "api_url", "the server"),
            )
        return done

    # --- the sender ------------------------------------------------------------------------
    def _drain(self) -> tuple[list[Any], bool]:
        """At most one full batch of items, oldest first (all that is left once the stop
        mark is among them), and whether it was."""
        items: list[Any] = []
        stop = False
        taken = self.queue.take(MAX_BATCH)
        if _STOP in taken:
            taken += self.queue.take_all()
        for item in taken:
            if item is _STOP:
                stop = True
            else:
                items.append(item)
        if not stop and not self.queue.empty() and not self._gathering():
            self._wake.set()  # more than a batch was waiting: the next one at once
        return items, stop

    def _send_loop(self) -> None:
        """The builder: drains the backlog into batches and hands them to the poster."""
        stop = False
        try:
            while not stop:
                self._wake.wait(self.interval)
                self._wake.clear()
                if self._gathering():
                    continue
                items, stop = self._drain()
                try:
                    batches = self._batches(items)
                except Exception:  # never let one odd item stop all reporting
                    logger.exception("flow run %s: could not encode a report", self.flow_run_id)
                    continue
                for body in batches:
                    if not self._hand_over(body):
                        return
        finally:
            self._hand_over(_STOP)
        logger.debug("flow run %s: reporter done", self.flow_run_id)

    def _hand_over(self, body: Any) -> bool:
        """Queue ``body`` for the poster; False once the poster has given up."""
        while not self._gave_up.is_set():
            try:
                self._outbox.put(body, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _gathering(self) -> bool:
        """Whether the builder lets more items gather before draining: while the poster
        is busy and less than a full batch waits (one full batch rather than many small
        ones, each a request and a transaction; the poster wakes the builder when done).
        Never while closing."""
        busy = self._posting or not self._outbox.empty()
        return busy and self.queue.qsize() < MAX_BATCH and not self._closing.is_set()

    def _post_loop(self) -> None:
        """The poster: sends the built batches in order, each until the server takes it."""
        while True:
            body = self._outbox.get()
            if body is _STOP:
                return
            if self.ended_elsewhere is not None:  # overtaken: nothing more counts
                self.dropped_batches += 1
                continue
            self._posting = True
            try:
                sent = self._send(body, deadline=None)
            finally:
                self._posting = False
            if not sent:
                self._gave_up.set()
                return
            if self._outbox.empty() and not self.queue.empty():
                self._wake.set()  # idle now: what gathered meanwhile goes out

    def _batches(self, items: list[Any]) -> list[dict[str, Any]]:
        """Items in order as report bodies: a flow state starts a new batch (the server applies
        a batch's flow state before its task states, so order is kept), except a final one,
        which ends the batch it joins (the server applies a final flow state after the
        batch's task states, in the same transaction: a run's last states and its end are
        one request). Task states go in
        the compact ``task_states`` form (one short row per change, timestamps as Unix
        seconds) and the answer lists only the changes that were not applied."""
        batches: list[dict[str, Any]] = []
        body: dict[str, Any] | None = None
        tasks: dict[str, int] = {}
        rows: list[list[Any]] = []
        count = 0
        sealed = False  # the body holds a final flow state: nothing may follow it there
        for item in items:
            kind = item[0]
            if (
                body is None
                or sealed
                or count >= MAX_BATCH
                or (kind == "f" and (not item[1].is_finished() or "flow_run_state" in body))
            ):
                if body is not None:
                    batches.append(_finish(body, rows))
                body = {"batch_id": uuid.uuid4().hex, "results": "problems", "logs": []}
                tasks, rows, count, sealed = {}, [], 0, False
            count += 1
            if kind == "t":
                _, slug, index, state, name, tags = item
                position = tasks.get(slug)
                if position is None:
                    position = tasks[slug] = len(tasks)
                    ref: dict[str, Any] = {"task_slug": slug, "task_name": name}
                    if tags is not None:
                        ref["tags"] = sorted(tags)
                    body.setdefault("task_refs", []).append(ref)
                kind_name, message, serialized = state_parts(state, self.secrets)
                rows.append(
                    [position, index, kind_name, state.timestamp, message, serialized, None]
                )
            elif kind == "f":
                if item[1].is_finished():
                    self._final_sent = sealed = True
                body["flow_run_state"] = {
                    "state": state_to_json(item[1], self.secrets),
                    "version": None,
                }
            else:
                body["logs"].append(item[1])
        if body is not None:
            batches.append(_finish(body, rows))
        return batches

    def _send(self, body: dict[str, Any], deadline: float | None) -> bool:
        """Send one batch until it is accepted (retrying the same batch_id with backoff); a 4xx
        other than 408/429 drops it (it can never succeed). False when giving up at close."""
        delay = 0.2
        give_up_at: float | None = None
        while True:
            try:
                answer = self.client.report(self.flow_run_id, body)
            except ApiError as exc:
                if exc.status < 500 and exc.status not in (408, 429):
                    self.dropped_batches += 1
                    hint = ""
                    if exc.status in (401, 403):
                        self.refused_batches += 1
                        hint = (
                            " (this process has no valid key for the server: give it "
                            "HEADRACE__API__KEY, or let the runner's per-run token reach it)"
                        )
                    logger.error(
                        "flow run %s: the server refused a report: %s%s",
                        self.flow_run_id,
                        exc,
                        hint,
                    )
                    return True
                error: Exception = exc
            except (ClientError, OSError) as exc:
                error = exc
            else:
                self.requests_sent += 1
                states = len(body.get("task_states", {}).get("rows", ()))
                self.task_states_sent += states
                self.items_sent += states + len(body["logs"])
                self._check_answer(answer)
                return True
            if self._closing.is_set():
                give_up_at = give_up_at or time.monotonic() + self.final_timeout
                if time.monotonic() > give_up_at:
                    self._unsent = [body]
                    return False
            logger.warning(
                "flow run %s: report failed (%s); retrying in %.1fs", self.flow_run_id, error, delay
            )
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _check_answer(self, answer: dict[str, Any]) -> None:
        for result in answer.get("task_runs", ()):
            if result.get("status") in ("rejected", "conflict"):
                logger.debug(
                    "flow run %s: task state %s: %s",
                    self.flow_run_id,
                    result["status"],
                    result.get("detail"),
                )
        if answer.get("flow_run_status") in ("rejected", "conflict"):
            if answer.get("flow_run_code") == "unfinished_task_runs":
                self.refused = str(answer.get("flow_run_detail"))
                logger.error(
                    "flow run %s: the server refused its final state: %s",
                    self.flow_run_id,
                    self.refused,
                )
            else:
                logger.warning(
                    "flow run %s: flow state not applied: %s",
                    self.flow_run_id,
                    answer.get("flow_run_detail"),
                )
        self._check_run_state(str(answer.get("flow_run_state", "")), answer.get("flow_run_count"))
        if answer.get("cancel_requested"):
            self._cancel()

    def _check_run_state(self, state: str, run_count: int | None = None) -> None:
        """A run the server holds finished although this runner sent no final state was
        ended from outside (the reaper, a user, an agent); one back to Scheduled or
        Submitted after this runner saw it Running was rescheduled (its heartbeats were
        taken for lost), or Running again in a later attempt. Either way: say so once and
        stop."""
        if state in ("Running", "Cancelling"):
            self._saw_running = True
            if self._attempt is None:
                self._attempt = run_count
        rescheduled = self._saw_running and state in ("Scheduled", "Submitted")
        if run_count is not None and self._attempt is not None and run_count > self._attempt:
            rescheduled = True
        if (
            not self.heartbeats  # a worker's reporter: the runner's own decides
            or (state not in _ENDED and not rescheduled)
            or self._final_sent
            or self.ended_elsewhere is not None
            or self.cancel_requested.is_set()
        ):
            return
        self.ended_elsewhere = state
        _OVERTAKEN.add(self.flow_run_id)
        logger.error(
            "flow run %s: the server %s this run meanwhile (for instance its heartbeats did "
            "not arrive in time); this runner stops, its work no longer counts",
            self.flow_run_id,
            f"ended ({state})" if state in _ENDED else f"retried ({state}, attempt {run_count})",
        )
        self._cancel(log=False)

    def _cancel(self, log: bool = True) -> None:
        if self.cancel_requested.is_set():
            return
        self.cancel_requested.set()
        if log:
            logger.warning("flow run %s: cancellation requested by the server", self.flow_run_id)
        if self.on_cancel is not None:
            threading.Thread(target=self.on_cancel, name="headrace-cancel", daemon=True).start()

    # --- heartbeats ------------------------------------------------------------------------
    def _beat_loop(self) -> None:
        while not self._done.wait(self.heartbeat_interval):
            try:
                answer = self.heartbeat_client.heartbeat(self.flow_run_id)
            except (ClientError, OSError) as exc:
                logger.warning("flow run %s: heartbeat failed: %s", self.flow_run_id, exc)
                continue
            self._check_run_state(str(answer.get("state", "")), answer.get("run_count"))
            if answer.get("cancel_requested"):
                self._cancel()


def _finish(body: dict[str, Any], rows: list[list[Any]]) -> dict[str, Any]:
    refs = body.pop("task_refs", [])
    if rows:
        body["task_states"] = {"tasks": refs, "rows": rows}
    return body


def log_record(
    message: str, level: int, name: str, created: float, slug: str | None, index: int | None
) -> dict[str, Any]:
    """A ``LogIn`` body."""
    return {
        "timestamp": datetime.fromtimestamp(created, UTC).isoformat(),
        "level": level,
        "name": name[:200],
        "message": message,
        "task_slug": slug,
        "map_index": index,
    }
