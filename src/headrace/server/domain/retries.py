"""What happens to a flow run whose runner died: rescheduled while it has retries, else
failed, with the history saying which attempt died and why.

Every kind of death ends here: the run's process exited before finishing it, was killed by
a signal (the kernel's out-of-memory killer included), or its agent reported it lost (all
three through ``POST /flow_runs/{id}/lost``), or the zombie reaper found its heartbeats (or
its agent's) missing. A run may be rescheduled while the attempt that died is at most its
``max_retries``. Rescheduling keeps the task runs that succeeded, like a restart: the
lost runner's running task runs are failed, then every task run that did not succeed goes
back to Pending for the next attempt. A run being cancelled ends ``Cancelled`` instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from headrace.server.db.models import FlowRun
from headrace.server.domain.states import (
    CANCELLING,
    FINISHED_NAMES,
    reset_unsuccessful_task_runs,
    set_flow_run_state,
)
from headrace.server.domain.task_sweep import sweep_task_runs

__all__ = ["LOSABLE", "attempt_of", "runner_lost"]

LOSABLE = frozenset({"Submitted", "Running", CANCELLING})
"""The states in which a run has a runner (or an agent about to start one) to lose."""


def attempt_of(run: FlowRun) -> int:
    """The number of the attempt in flight: a run that never reached Running (claimed, then
    lost) is in one attempt more than it has started."""
    return run.run_count + 1 if run.state == "Submitted" else max(run.run_count, 1)


def runner_lost(session: Session, run: FlowRun, why: str, now: datetime) -> str:
    """``run`` (locked by the caller) lost its runner for reason ``why``: cancel it, retry it
    or fail it. Returns its new state; a run that has no runner to lose (finished, or
    already rescheduled) is left alone and its state returned."""
    if run.state not in LOSABLE:
        return run.state
    if run.state == CANCELLING:
        set_flow_run_state(session, run, "Cancelled", now=now, message=why)
        return run.state
    attempt = attempt_of(run)
    if attempt <= run.max_retries:
        sweep_task_runs(session, run.id, ("Running",), "Failed", why, now)
        reset_unsuccessful_task_runs(session, run.id, now)
        set_flow_run_state(
            session,
            run,
            "Scheduled",
            now=now,
            checked=False,
            message=f"attempt {attempt} died: {why}; retry {attempt} of {run.max_retries}",
            extra={
                "scheduled_start": now,
                "agent_id": None,
                "claimed_at": None,
                "heartbeat": None,
                "is_late": False,
                "run_count": attempt,
            },
        )
        return run.state
    retries = (
        f"no retries left ({run.max_retries} allowed)" if run.max_retries else "no retries allowed"
    )
    # its running task runs end Failed, the waiting ones Cancelled
    set_flow_run_state(
        session,
        run,
        "Failed",
        now=now,
        message=f"attempt {attempt} died: {why}; {retries}",
        checked=False,
        extra={"run_count": attempt},
    )
    assert run.state in FINISHED_NAMES
    return run.state
