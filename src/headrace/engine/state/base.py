"""The base of every state: a message, a result (read back lazily when only its persisted
location is known) and a timestamp, plus the ``is_*`` questions asked of a state.

The predicates are ``isinstance`` checks against the kinds, which are defined in
:mod:`~headrace.engine.state.waiting` and :mod:`~headrace.engine.state.finished` and
imported at the end of this module (they subclass :class:`State`, so they come after it).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from headrace.engine.results.base import Result

__all__ = ["NOT_LOADED", "State", "replace"]

S = TypeVar("S", bound="State")


class _NotLoaded:
    """The value of a state whose result is persisted and not read yet. One object,
    compared by identity: it unpickles as that object (a state read back for a restart
    may travel to a worker process before its result is read)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not loaded>"

    def __reduce__(self) -> str:
        return "NOT_LOADED"


NOT_LOADED: Any = _NotLoaded()


class State:
    """Base class of every state.

    ``result`` is the value a task produced. When the value was persisted, ``persisted``
    holds the :class:`~headrace.engine.results.base.Result` that knows its location; a
    state rebuilt from the server carries only that and reads the value on first access
    (and keeps it: the one write to a state after it is built, a memo of what it holds).

    States are not changed once built: the next state is a new one (``replace(state,
    ...)`` for a copy with some fields changed).
    """

    __slots__ = ("_value", "message", "persisted", "timestamp")
    color = "#999999"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        *,
        persisted: Result | None = None,
        timestamp: float | None = None,
    ) -> None:
        self.message = message
        self._value = result
        self.persisted = persisted
        self.timestamp = time.time() if timestamp is None else timestamp

    @property
    def result(self) -> Any:
        if self._value is NOT_LOADED:
            if self.persisted is None:
                return None
            self._value = self.persisted.read(str(self.persisted.location)).value
        return self._value

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        if self.message:
            return f"<{type(self).__name__}: {self.message!r}>"
        return f"<{type(self).__name__}>"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        assert isinstance(other, State)
        return self.message == other.message and self._value == other._value

    __hash__ = None  # type: ignore[assignment]

    def is_pending(self) -> bool:
        return isinstance(self, Pending)

    def is_scheduled(self) -> bool:
        return isinstance(self, Scheduled)

    def is_submitted(self) -> bool:
        return isinstance(self, Submitted)

    def is_queued(self) -> bool:
        return isinstance(self, Queued)

    def is_running(self) -> bool:
        return isinstance(self, Running)

    def is_retrying(self) -> bool:
        return isinstance(self, Retrying)

    def is_paused(self) -> bool:
        return isinstance(self, Paused)

    def is_finished(self) -> bool:
        return isinstance(self, Finished)

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def is_skipped(self) -> bool:
        return isinstance(self, Skipped)

    def is_cached(self) -> bool:
        return isinstance(self, Cached)

    def is_mapped(self) -> bool:
        return isinstance(self, Mapped)

    def is_cancelled(self) -> bool:
        return isinstance(self, Cancelled)


_SLOTS: dict[type[State], tuple[str, ...]] = {}


def _slots_of(cls: type[State]) -> tuple[str, ...]:
    found = _SLOTS.get(cls)
    if found is None:
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("__slots__", ()):
                if name not in names:
                    names.append(name)
        found = _SLOTS[cls] = tuple(names)
    return found


def replace(state: S, *, drop: Iterable[str] = (), **changes: Any) -> S:
    """A new state of ``state``'s kind with ``changes`` (``dataclasses.replace`` for
    states): the engine never changes a state it has handed on, it builds the next one.

    ``result`` names the value; ``drop`` names optional fields left unset in the copy
    (``cache_entry`` once the flow runner has stored it).
    """
    if "result" in changes:
        changes["_value"] = changes.pop("result")
    cls = type(state)
    new = cls.__new__(cls)
    dropped = frozenset(drop)
    for name in _slots_of(cls):
        if name in changes:
            object.__setattr__(new, name, changes.pop(name))
        elif name not in dropped and hasattr(state, name):
            object.__setattr__(new, name, getattr(state, name))
    if changes:
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(changes))}")
    return new


# The kinds the predicates name; they import State from here, so they load after it.
from headrace.engine.state.finished import (  # noqa: E402
    Cached,
    Cancelled,
    Failed,
    Finished,
    Mapped,
    Skipped,
    Success,
)
from headrace.engine.state.waiting import (  # noqa: E402
    Paused,
    Pending,
    Queued,
    Retrying,
    Running,
    Scheduled,
    Submitted,
)
