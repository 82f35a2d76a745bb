"""The zombie reaper: a flow run whose runner stopped heartbeating is failed or retried.

A run is a zombie when it is ``Running`` (or ``Cancelling``) and its last heartbeat (or its
start) is older than ``server.heartbeat_timeout``, or when it has been ``Submitted`` (claimed
but never started) for longer than ``server.submitted_timeout``. A ``Cancelling`` zombie
becomes ``Cancelled``. Any other zombie is rescheduled when it has retries left, else
``Failed``. Retries: each flow run has ``max_retries`` (set when creating it, default
``server.flow_run_max_retries``); a run may be rescheduled while the number of attempts so
far (``run_count``, at least 1) is at most ``max_retries``. Rescheduling keeps the task runs
that succeeded, like a restart. Updates are optimistic: a run that reported in meanwhile
is left alone.

Task runs: a lost runner's ``Running`` task runs become ``Failed`` (except in a run being
cancelled); when the run ends ``Cancelled`` or ``Failed``, every task run that has not
finished becomes ``Cancelled`` (nothing will run it any more).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from headrace.server.db import Database
from headrace.server.errors import VersionConflictError
from headrace.server.models import FlowRun, utcnow
from headrace.server.settings import ServerSettings
from headrace.server.states import (
    CANCELLING,
    reset_unsuccessful_task_runs,
    set_flow_run_state,
)
from headrace.server.task_sweep import sweep_task_runs

__all__ = ["reap_zombies"]


def _is_zombie(run: FlowRun, settings: ServerSettings, now: datetime) -> bool:
    """The same test as the query below, re-checked once the row is locked (a heartbeat
    may have arrived in between; heartbeats do not bump the version)."""
    if run.state in ("Running", CANCELLING):
        sign = run.heartbeat or run.start_time or run.state_timestamp
        return sign < now - timedelta(seconds=settings.heartbeat_timeout)
    if run.state == "Submitted":
        claimed = run.heartbeat or run.claimed_at
        return claimed is not None and claimed < now - timedelta(seconds=settings.submitted_timeout)
    return False


def _zombie_ids(db: Database, settings: ServerSettings, now: datetime) -> list[str]:
    stale = now - timedelta(seconds=settings.heartbeat_timeout)
    unstarted = now - timedelta(seconds=settings.submitted_timeout)
    last_sign = sa.func.coalesce(FlowRun.heartbeat, FlowRun.start_time, FlowRun.state_timestamp)
    with db.session(write=False) as s:
        return list(
            s.scalars(
                sa.select(FlowRun.id).where(
                    sa.or_(
                        sa.and_(FlowRun.state.in_(("Running", CANCELLING)), last_sign < stale),
                        sa.and_(
                            FlowRun.state == "Submitted",
                            sa.func.coalesce(FlowRun.heartbeat, FlowRun.claimed_at) < unstarted,
                        ),
                    )
                )
            )
        )


def reap_zombies(db: Database, settings: ServerSettings, now: datetime | None = None) -> int:
    """Fail or reschedule every zombie run; returns how many were handled."""
    now = now or utcnow()
    handled = 0
    for run_id in _zombie_ids(db, settings, now):
        try:
            with db.session() as s:
                run = s.get(FlowRun, run_id, with_for_update=True)
                if run is None or not _is_zombie(run, settings, now):
                    continue
                why = f"no heartbeat for over {settings.heartbeat_timeout:g}s (runner lost)"
                if run.state == "Submitted":
                    why = f"claimed but not started within {settings.submitted_timeout:g}s"
                attempts = max(run.run_count, 1)
                if run.state == CANCELLING:
                    set_flow_run_state(s, run, "Cancelled", now=now, message=why)
                elif attempts <= run.max_retries:
                    sweep_task_runs(s, run.id, ("Running",), "Failed", why, now)
                    reset_unsuccessful_task_runs(s, run.id, now)
                    set_flow_run_state(
                        s,
                        run,
                        "Scheduled",
                        now=now,
                        checked=False,
                        message=f"{why}; retry {attempts} of {run.max_retries}",
                        extra={
                            "scheduled_start": now,
                            "agent_id": None,
                            "claimed_at": None,
                            "heartbeat": None,
                            "is_late": False,
                        },
                    )
                else:
                    # its running task runs end Failed, the waiting ones Cancelled
                    set_flow_run_state(s, run, "Failed", now=now, message=why, checked=False)
                handled += 1
        except VersionConflictError:
            continue
    return handled
