"""A scheduled flow: every minute it records the time it ran (``headrace up`` schedules it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from headrace import Flow, task
from headrace.schedules import IntervalSchedule


@task
def now() -> str:
    return datetime.now(UTC).isoformat()


@task(log_stdout=True)
def report(when: str) -> str:
    print(f"scheduled example ran at {when}")
    return when


with Flow("scheduled-heartbeat", schedule=IntervalSchedule(interval=timedelta(minutes=1))) as flow:
    report(now())
