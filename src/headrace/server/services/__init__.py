"""Background services of the server process: scheduler, zombie reaper, late-run watcher,
housekeeping and log retention.

Each service is a plain function ``step(db, settings, now=None) -> int`` (what it did, as a
count) that tests call directly; :class:`ServiceLoop` runs all of them every
``server.services_interval`` seconds in one daemon thread of the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from headrace.server.db import Database
from headrace.server.services.housekeeping import prune_report_batches
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
    "log_retention": delete_old_logs,
    "notifications": send_notifications,
}


class ServiceLoop:
    """Runs every service step each interval until :meth:`stop`; a failing step is logged
    and retried next interval, never fatal."""

    def __init__(self, db: Database, settings: ServerSettings) -> None:
        self.db = db
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="headrace-services", daemon=True)
        self.logger = get_logger("server.services")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> dict[str, int]:
        done = {}
        for name, step in SERVICES.items():
            try:
                done[name] = step(self.db, self.settings, None)
            except Exception:
                self.logger.exception("service %s failed; retrying next interval", name)
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.settings.services_interval)
