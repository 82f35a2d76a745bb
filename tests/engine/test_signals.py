"""Signals choose a task's state, and a user's ``except Exception`` cannot swallow them."""

from __future__ import annotations

from typing import Any

import pytest

from headrace import Flow, task
from headrace.engine import state as s
from headrace.engine.signals import (
    ENDRUN,
    FAIL,
    PAUSE,
    RETRY,
    SKIP,
    SUCCESS,
    VALIDATIONFAIL,
    signal_from_state,
)


@pytest.mark.parametrize("signal", [FAIL, SKIP, RETRY, PAUSE, SUCCESS])
def test_signals_are_not_exceptions(signal: type[BaseException]) -> None:
    assert issubclass(signal, BaseException)
    assert not issubclass(signal, Exception)
    assert not issubclass(ENDRUN, Exception)


@task
def swallow_skip() -> str:
    try:
        raise SKIP("nothing new")
    except Exception:
        return "swallowed"


@task
def swallow_fail() -> str:
    try:
        raise FAIL("bad data")
    except Exception:
        return "swallowed"


@task
def succeed_early() -> None:
    raise SUCCESS("early", result=7)


@task
def end_cancelled() -> None:
    raise ENDRUN(s.Cancelled("stop here"))


@task
def after(x: Any) -> str:
    return "ran"


def test_signals_end_the_task_in_their_state(executor: Any) -> None:
    with Flow("signals") as flow:
        skipped = swallow_skip()
        failed = swallow_fail()
        early = succeed_early()
        cancelled = end_cancelled()
        downstream = after(skipped)
    state = flow.run(executor=executor)
    res = state.result
    assert type(res[skipped]) is s.Skipped and res[skipped].message == "nothing new"
    assert type(res[failed]) is s.Failed and res[failed].message == "bad data"
    assert type(res[early]) is s.Success and res[early].result == 7
    assert type(res[cancelled]) is s.Cancelled and res[cancelled].message == "stop here"
    assert type(res[downstream]) is s.Skipped  # skip propagates
    assert state.is_failed()


def test_signal_carries_its_state() -> None:
    sig = FAIL("why", result=3)
    assert type(sig.state) is s.Failed and sig.state.message == "why" and sig.state.result == 3


@task
def validate_rows() -> int:
    try:
        raise VALIDATIONFAIL("3 rows have no id")
    except Exception:  # a signal is not an Exception: it cannot be swallowed here
        return 0


def test_validationfail_ends_the_task_validation_failed_and_fails_downstream(
    executor: Any,
) -> None:
    with Flow("validation") as flow:
        checked = validate_rows()
        downstream = after(checked)
    state = flow.run(executor=executor)
    res = state.result
    assert type(res[checked]) is s.ValidationFailed and res[checked].message == "3 rows have no id"
    assert res[checked].is_failed()
    assert type(res[downstream]) is s.TriggerFailed
    assert state.is_failed()
    assert signal_from_state(res[checked]) is VALIDATIONFAIL


def test_queued_is_a_kind_of_submitted_waiting_state() -> None:
    queued = s.Queued("a concurrency slot is taken", start_time=None)
    assert queued.is_queued() and queued.is_submitted() and queued.is_pending()
    assert not queued.is_running() and not queued.is_finished()
    assert not s.Submitted().is_queued()
