"""The user-code boundary: user errors come out wrapped, signals pass, timeouts end calls."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from headrace import context
from headrace.engine.boundary import UserCodeError, call_user, call_with_timeout
from headrace.engine.errors import TaskTimeoutError
from headrace.engine.signals import SKIP
from headrace.exceptions import HeadraceError


def explode(message: str) -> None:
    raise KeyError(message)


def test_user_exceptions_are_wrapped_with_the_original() -> None:
    with pytest.raises(UserCodeError) as info:
        call_user("task 'x'", explode, "missing")
    err = info.value
    assert isinstance(err, HeadraceError)
    assert isinstance(err.exc, KeyError) and err.__cause__ is err.exc
    assert err.what == "task 'x'"
    assert "task 'x' raised KeyError" in str(err)


def test_signals_pass_through_untouched() -> None:
    def skip() -> None:
        raise SKIP("later")

    with pytest.raises(SKIP):
        call_user("task", skip)
    with pytest.raises(SKIP):
        call_with_timeout("task", 5, skip)


def test_call_with_timeout_returns_values_and_wraps_errors() -> None:
    assert call_with_timeout("task", 5, lambda a, b: a + b, 1, b=2) == 3
    with pytest.raises(UserCodeError) as info:
        call_with_timeout("task", 5, explode, "k")
    assert isinstance(info.value.exc, KeyError)


def test_call_with_timeout_gives_up_and_stops_the_runaway_thread() -> None:
    stopped = threading.Event()

    def spin() -> None:
        try:
            while True:
                time.sleep(0.01)
        finally:
            stopped.set()

    with pytest.raises(TaskTimeoutError, match=r"timed out after 0\.2s") as info:
        call_with_timeout("task 'spin'", 0.2, spin)
    assert isinstance(info.value, TimeoutError)
    assert stopped.wait(5)  # the helper thread was interrupted, not left spinning


def test_call_with_timeout_runs_with_the_callers_context() -> None:
    def read() -> Any:
        return context.get("flow_name")

    with context(flow_name="outer"):
        assert call_with_timeout("task", 5, read) == "outer"
