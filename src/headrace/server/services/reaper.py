"""The zombie reaper: a flow run whose runner stopped heartbeating is failed or retried.

A run is a zombie when it is ``Running`` (or ``Cancelling``) and its last heartbeat (or its
start) is older than ``server.heartbeat_timeout``, or when it is ``Submitted`` (claimed but
not started) and either its agent has not heartbeated it (the agent lists the runs it holds
in its heartbeats) for ``server.heartbeat_timeout``, or it was claimed longer than
``server.submitted_timeout`` ago. A ``Cancelling`` zombie becomes ``Cancelled``; any other
is rescheduled while it has retries, else ``Failed`` (:mod:`headrace.server.domain.retries`, with
the attempt that died and why in its history). Retries: each flow run has ``max_retries``
(set when creating it, default ``server.flow_run_max_retries``). Updates are optimistic: a
run that reported in meanwhile is left alone.

A server restart is not a runner death: given ``alive_since`` (when the server started
serving, or resumed after a gap in its service loop), nothing is reaped until
``heartbeat_timeout`` has passed since then, so runners whose heartbeats could not arrive
while the server was away have a whole timeout to send the next one.

Task runs: a lost runner's ``Running`` task runs become ``Failed`` (except in a run being
cancelled); when the run ends ``Cancelled`` or ``Failed``, every task run that has not
finished becomes ``Cancelled`` (nothing will run it any more).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from headrace.server.db.database import Database
from headrace.server.db.models import FlowRun, utcnow
from headrace.server.domain.retries import runner_lost
from headrace.server.domain.states import CANCELLING
from headrace.server.errors import VersionConflictError
from headrace.server.settings import ServerSettings

__all__ = ["reap_zombies"]


def _is_zombie(run: FlowRun, settings: ServerSettings, now: datetime) -> bool:
    """The same test as the query below, re-checked once the row is locked (a heartbeat
    may have arrived in between; heartbeats do not bump the version)."""
    if run.state in ("Running", CANCELLING):
        sign = run.heartbeat or run.start_time or run.state_timestamp
        return sign < now - timedelta(seconds=settings.heartbeat_timeout)
    if run.state == "Submitted" and run.claimed_at is not None:
        beat = run.heartbeat or run.claimed_at
        return beat < now - timedelta(seconds=settings.heartbeat_timeout) or (
            run.claimed_at < now - timedelta(seconds=settings.submitted_timeout)
        )
    return False


def _unstarted_why(run: FlowRun, settings: ServerSettings, now: datetime) -> str:
    claimed = run.claimed_at or now
    if claimed < now - timedelta(seconds=settings.submitted_timeout):
        return f"claimed but not started within {settings.submitted_timeout:g}s"
    return (
        f"claimed but not started, and its agent stopped heartbeating it for over "
        f"{settings.heartbeat_timeout:g}s (agent lost)"
    )


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
                            sa.or_(
                                sa.func.coalesce(FlowRun.heartbeat, FlowRun.claimed_at) < stale,
                                FlowRun.claimed_at < unstarted,
                            ),
                        ),
                    )
                )
            )
        )


def reap_zombies(
    db: Database,
    settings: ServerSettings,
    now: datetime | None = None,
    alive_since: datetime | None = None,
) -> int:
    """Fail or reschedule every zombie run; returns how many were handled. Within
    ``heartbeat_timeout`` of ``alive_since`` (the server's start) nothing is a zombie."""
    now = now or utcnow()
    if alive_since is not None and alive_since > now - timedelta(
        seconds=settings.heartbeat_timeout
    ):
        return 0
    handled = 0
    for run_id in _zombie_ids(db, settings, now):
        try:
            with db.session() as s:
                run = s.get(FlowRun, run_id, with_for_update=True)
                if run is None or not _is_zombie(run, settings, now):
                    continue
                why = f"no heartbeat for over {settings.heartbeat_timeout:g}s (runner lost)"
                if run.state == "Submitted":
                    why = _unstarted_why(run, settings, now)
                runner_lost(s, run, why, now)
                handled += 1
        except VersionConflictError:
            continue
    return handled
