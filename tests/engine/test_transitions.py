"""The one transition table every runner and the server use."""

from __future__ import annotations

import pytest

from headrace.engine import state as s
from headrace.engine.errors import InvalidTransitionError
from headrace.engine.transitions import Event, event_for, is_allowed, target_kind, transition


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (s.Pending, s.Running),
        (s.Pending, s.Submitted),
        (s.Scheduled, s.Running),
        (s.Submitted, s.Running),
        (s.Retrying, s.Running),
        (s.Resume, s.Running),
        (s.Pending, s.Skipped),
        (s.Pending, s.TriggerFailed),
        (s.Pending, s.Paused),
        (s.Pending, s.Cached),
        (s.Running, s.Success),
        (s.Running, s.Failed),
        (s.Running, s.TimedOut),
        (s.Running, s.Retrying),
        (s.Running, s.Mapped),
        (s.Running, s.Cancelled),
        (s.Running, s.Running),  # heartbeats re-report Running
        (s.Paused, s.Resume),
        (s.Paused, s.Cancelled),
        (s.Success, s.Pending),  # restart
        (s.Failed, s.Pending),
        ("Running", "Success"),
        ("Failed", "Scheduled"),  # a restart may schedule directly
    ],
)
def test_allowed(current: type[s.State] | str, new: type[s.State] | str) -> None:
    assert is_allowed(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (s.Success, s.Running),
        (s.Failed, s.Running),
        (s.Success, s.Failed),
        (s.Success, s.Success),
        (s.Cancelled, s.Running),
        (s.Pending, s.Success),  # must run first
        (s.Paused, s.Running),  # resume first
        (s.Running, s.Pending),
        ("TimedOut", "Success"),
    ],
)
def test_forbidden(current: type[s.State] | str, new: type[s.State] | str) -> None:
    assert not is_allowed(current, new)


def test_transition_builds_the_next_state() -> None:
    nxt = transition(s.Pending(), Event.START, "go")
    assert type(nxt) is s.Running and nxt.message == "go"
    assert type(transition(s.Running(), Event.TIME_OUT)) is s.TimedOut
    assert type(transition(s.Retrying(), Event.START)) is s.Running


def test_forbidden_transition_raises_naming_both() -> None:
    with pytest.raises(InvalidTransitionError, match=r"Success.*start") as info:
        transition(s.Success(), Event.START)
    assert isinstance(info.value, ValueError)
    with pytest.raises(InvalidTransitionError):
        target_kind(s.Failed, Event.SUCCEED)


def test_event_for_each_final_kind() -> None:
    assert event_for(s.Success) is Event.SUCCEED
    assert event_for(s.Failed) is Event.FAIL
    assert event_for(s.TimedOut) is Event.TIME_OUT
    assert event_for(s.TriggerFailed) is Event.TRIGGER_FAIL
    assert event_for(s.Skipped) is Event.SKIP
    assert event_for(s.Retrying) is Event.RETRY
    assert event_for(s.Cached) is Event.CACHE_HIT
    assert event_for(s.Paused) is Event.PAUSE


def test_unknown_state_names_are_refused() -> None:
    with pytest.raises(ValueError, match=r"Bogus"):
        is_allowed("Bogus", "Running")
