"""Triggers: decide from the upstream states whether a task runs.

A trigger takes ``{edge: state}`` for the task's upstream edges and returns ``True`` or
raises a signal (``TRIGGERFAIL`` to fail, ``PAUSE`` to wait for approval). A mapped
upstream counts as its children, so a reduce task sees a failed child. Constants are not
upstream tasks and never count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from headrace.engine import signals
from headrace.engine.state import Mapped, State

__all__ = [
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "some_failed",
    "some_successful",
]

Trigger = Callable[[Mapping[Any, State]], bool]


def _flat(upstream_states: Mapping[Any, State]) -> list[State]:
    states: list[State] = []
    for s in upstream_states.values():
        if isinstance(s, Mapped):
            states.extend(s.map_states)
        else:
            states.append(s)
    return states


def all_finished(upstream_states: Mapping[Any, State]) -> bool:
    """Run once every upstream task finished, whatever its state."""
    if not all(s.is_finished() for s in _flat(upstream_states)):
        raise signals.TRIGGERFAIL(
            "Trigger was 'all_finished' but some upstream tasks did not finish."
        )
    return True


always_run = all_finished


def manual_only(upstream_states: Mapping[Any, State]) -> bool:
    """Never run on its own: the task pauses until it is resumed."""
    raise signals.PAUSE("Trigger is 'manual_only': waiting for approval.")


def all_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run when every upstream task succeeded (the default: the task runner calls it for
    every task without a trigger, so it walks the states without building a list)."""
    for s in upstream_states.values():
        if not s.is_successful() or (
            isinstance(s, Mapped) and not all(c.is_successful() for c in s.map_states)
        ):
            raise signals.TRIGGERFAIL(
                "Trigger was 'all_successful' but some upstream tasks failed."
            )
    return True


def all_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run when every upstream task failed."""
    if not all(s.is_failed() for s in _flat(upstream_states)):
        raise signals.TRIGGERFAIL("Trigger was 'all_failed' but some upstream tasks succeeded.")
    return True


def any_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run when at least one upstream task succeeded (or there are none)."""
    states = _flat(upstream_states)
    if states and not any(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL("Trigger was 'any_successful' but no upstream task succeeded.")
    return True


def any_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run when at least one upstream task failed (or there are none)."""
    states = _flat(upstream_states)
    if states and not any(s.is_failed() for s in states):
        raise signals.TRIGGERFAIL("Trigger was 'any_failed' but no upstream task failed.")
    return True


def not_all_skipped(upstream_states: Mapping[Any, State]) -> bool:
    """Run when all upstream tasks succeeded and not every one of them skipped."""
    states = _flat(upstream_states)
    if states and all(s.is_skipped() for s in states):
        raise signals.SKIP("All upstream tasks were skipped.")
    if not all(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL("Trigger was 'not_all_skipped' but some upstream tasks failed.")
    return True


def _check_bound(value: float | None, name: str) -> None:
    """A bound is a count (int >= 0) or a share (float from 0 to 1)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be an int count or a float share, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative (got {value})")
    if isinstance(value, float) and value > 1:
        raise ValueError(
            f"{name}={value} is neither a share (a float from 0 to 1) nor a count (an int)"
        )


def _bound(value: float | None, total: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, float):
        return value * total
    return float(value)


def _some(predicate: str, at_least: float | None, at_most: float | None) -> Trigger:
    if at_least is None and at_most is None:
        raise ValueError("give at_least= or at_most=")
    _check_bound(at_least, "at_least")
    _check_bound(at_most, "at_most")

    def trigger(upstream_states: Mapping[Any, State]) -> bool:
        states = _flat(upstream_states)
        count = sum(1 for s in states if getattr(s, predicate)())
        low = _bound(at_least, len(states))
        high = _bound(at_most, len(states))
        if (low is not None and count < low) or (high is not None and count > high):
            raise signals.TRIGGERFAIL(
                f"Trigger wanted {'' if low is None else f'at least {low:g} '}"
                f"{'' if high is None else f'at most {high:g} '}of {len(states)} upstream "
                f"tasks with {predicate.removeprefix('is_')} states; {count} had one."
            )
        return True

    trigger.__name__ = f"some_{predicate.removeprefix('is_')}"
    return trigger


def some_successful(at_least: float | None = None, at_most: float | None = None) -> Trigger:
    """Run when the number (int) or share (float <= 1) of successful upstream tasks fits."""
    return _some("is_successful", at_least, at_most)


def some_failed(at_least: float | None = None, at_most: float | None = None) -> Trigger:
    """Run when the number (int) or share (float <= 1) of failed upstream tasks fits."""
    return _some("is_failed", at_least, at_most)
