"""``RunSettings`` from the configuration: ``tasks.default_timeout`` bounds the tasks that
have no timeout of their own (issue 13)."""

from __future__ import annotations

import time

from headrace import Flow, config, task
from headrace.engine import state as s
from headrace.engine.settings import RunSettings


@task
def slow() -> int:
    time.sleep(2)
    return 1


@task(timeout=5)
def patient() -> int:
    time.sleep(0.3)
    return 2


def test_no_default_timeout_unless_configured() -> None:
    assert RunSettings.from_config().default_timeout is None
    with config.override(**{"tasks.default_timeout": 0}):
        assert RunSettings.from_config().default_timeout is None
    with config.override(**{"tasks.default_timeout": 1.5}):
        assert RunSettings.from_config().default_timeout == 1.5
        assert RunSettings.from_config(default_timeout=None).default_timeout is None


def test_the_configured_default_timeout_bounds_tasks_without_their_own() -> None:
    with Flow("timeouts") as flow:
        a = slow()
        b = patient()
    with config.override(**{"tasks.default_timeout": 0.2}):
        state = flow.run()
    assert isinstance(state.result[a], s.TimedOut)
    assert state.result[b].result == 2  # its own timeout wins
