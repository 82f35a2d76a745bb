"""The states a task run or flow run passes through.

States are small plain objects (``__slots__``): a message, a result and a timestamp, plus
a few kind-specific fields. The kinds form a hierarchy so questions are ``isinstance``
checks: ``TriggerFailed`` and ``TimedOut`` are kinds of ``Failed``; ``Cached``, ``Mapped``
and ``Skipped`` are kinds of ``Success``; ``Scheduled``, ``Submitted``, ``Retrying`` and
``Paused`` are kinds of ``Pending``; ``Looped`` (one iteration of a looping task) is
finished but neither success nor failure. Which state may follow which is decided by
:mod:`headrace.engine.transitions`, not here.
"""

from __future__ import annotations

from headrace.engine.state.base import NOT_LOADED as NOT_LOADED
from headrace.engine.state.base import State, replace
from headrace.engine.state.finished import (
    Cached,
    Cancelled,
    Failed,
    Finished,
    Looped,
    Mapped,
    Skipped,
    Success,
    TimedOut,
    TriggerFailed,
    ValidationFailed,
)
from headrace.engine.state.waiting import (
    Paused,
    Pending,
    Queued,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Submitted,
)

__all__ = [
    "KINDS",
    "Cached",
    "Cancelled",
    "Failed",
    "Finished",
    "Looped",
    "Mapped",
    "Paused",
    "Pending",
    "Queued",
    "Resume",
    "Retrying",
    "Running",
    "Scheduled",
    "Skipped",
    "State",
    "Submitted",
    "Success",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
    "replace",
    "state_class",
]

#: Every kind of state a run can be in (all but the bases ``State`` and ``Finished``).
KINDS: tuple[type[State], ...] = (
    Pending,
    Scheduled,
    Submitted,
    Queued,
    Paused,
    Retrying,
    Resume,
    Running,
    Looped,
    Success,
    Cached,
    Mapped,
    Skipped,
    Failed,
    TriggerFailed,
    TimedOut,
    ValidationFailed,
    Cancelled,
)

_NAMED: tuple[type[State], ...] = (State, Finished, *KINDS)
_BY_NAME: dict[str, type[State]] = {cls.__name__: cls for cls in _NAMED}


def state_class(name: str) -> type[State]:
    """The state class called ``name`` (``"Success"`` -> :class:`Success`)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown state {name!r}; expected one of {', '.join(sorted(_BY_NAME))}"
        ) from None
