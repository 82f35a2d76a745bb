"""Background services of the server process: scheduler, zombie reaper, late-run watcher,
housekeeping and log retention.

Each service is a plain function ``step(db, settings, now=None) -> int`` (what it did, as a
count) that tests call directly; :class:`ServiceLoop` runs all of them every
``server.services_interval`` seconds in one daemon thread of the server.

A server restart is not a runner death: runners cannot heartbeat a server that is down,
so the loop keeps ``alive_since``, the moment since which the server has been serving
without a gap (its start; or the end of a gap in its own loop: a round that came late, the
process stopped, a step failing, e.g. the database unreachable), and the zombie reaper
fails no run for missing heartbeats until a whole ``server.heartbeat_timeout`` has passed
since then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from headrace.server.db.database import Database
from headrace.server.db.models import utcnow
from headrace.server.services.housekeeping import prune_report_batches, prune_run_tokens
from headrace.server.services.late import mark_late_runs
from headrace.server.services.notify import send_notifications
from headrace.server.services.reaper import reap_zombies
from headrace.server.services.retention import delete_old_logs
from headrace.server.services.scheduler import schedule_flow_runs
from headrace.server.settings import ServerSettings
from headrace.utilities.logging import get_logger

__all__ = [
    "SERVICES",
    "ServiceLoop",
    "delete_old_logs",
    "mark_late_runs",
    "prune_report_batches",
    "prune_run_tokens",
    "reap_zombies",
    "schedule_flow_runs",
    "send_notifications",
]

Step = Callable[[Database, ServerSettings, "datetime | None"], int]
SERVICES: dict[str, Step] = {
    "scheduler": schedule_flow_runs,
    "zombie_reaper": reap_zombies,
    "late_runs": mark_late_runs,
    "housekeeping": prune_report_batches,
    "run_tokens": prune_run_tokens,
    "log_retention": delete_old_logs,
    "notifications": send_notifications,
}


class ServiceLoop:
    """Runs every service step each interval until :meth:`stop`; a failing step is logged
    and retried next interval, never fatal."""

    def __init__(self, db: Database, settings: ServerSettings) -> None:
        self.db = db
        self.settings = settings
        #: Serving without a gap since (the reaper's grace period counts from it).
        self.alive_since = utcnow()
        self._last_round: datetime | None = None
        self._healthy = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="headrace-services", daemon=True)
        self.logger = get_logger("server.services")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _note_gap(self, now: datetime) -> None:
        """Start a new grace period when this round comes after a gap (late after the end
        of the last one, or after a round whose steps failed)."""
        allowed = timedelta(seconds=2 * self.settings.services_interval + 1.0)
        late = self._last_round is not None and now - self._last_round > allowed
        if late or not self._healthy:
            self.alive_since = now
            self.logger.warning(
                "services: resuming after a gap (%s); runs get %gs to heartbeat again",
                "late round" if late else "a failing step",
                self.settings.heartbeat_timeout,
            )

    def run_once(self) -> dict[str, int]:
        self._note_gap(utcnow())
        done = {}
        healthy = True
        for name, step in SERVICES.items():
            try:
                if step is reap_zombies:
                    done[name] = reap_zombies(self.db, self.settings, alive_since=self.alive_since)
                else:
                    done[name] = step(self.db, self.settings, None)
            except Exception:
                healthy = False
                self.logger.exception("service %s failed; retrying next interval", name)
        self._healthy = healthy
        self._last_round = utcnow()
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.settings.services_interval)
