"""Signals choose a task's state, and a user's ``except Exception`` cannot swallow them."""

from __future__ import annotations

from typing import Any

import pytest

from headrace import Flow, task
from headrace.engine import state as s
from headrace.engine.signals import ENDRUN, FAIL, PAUSE, RETRY, SKIP, SUCCESS


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
