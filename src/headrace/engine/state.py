"""The states a task run or flow run passes through.

States are small plain objects (``__slots__``): a message, a result and a timestamp, plus
a few kind-specific fields. The kinds form a hierarchy so questions are ``isinstance``
checks: ``TriggerFailed`` and ``TimedOut`` are kinds of ``Failed``; ``Cached``, ``Mapped``
and ``Skipped`` are kinds of ``Success``; ``Scheduled``, ``Submitted``, ``Retrying`` and
``Paused`` are kinds of ``Pending``. Which state may follow which is decided by
:mod:`headrace.engine.transitions`, not here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.engine.results.base import Result

__all__ = [
    "Cached",
    "Cancelled",
    "Failed",
    "Finished",
    "Mapped",
    "Paused",
    "Pending",
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
    "state_class",
]


class _NotLoaded:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<not loaded>"


NOT_LOADED: Any = _NotLoaded()


class State:
    """Base class of every state.

    ``result`` is the value a task produced. When the value was persisted, ``persisted``
    holds the :class:`~headrace.engine.results.base.Result` that knows its location; a
    state rebuilt from the server carries only that and reads the value on first access.
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

    @result.setter
    def result(self, value: Any) -> None:
        self._value = value

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


class Pending(State):
    """Not started yet."""

    __slots__ = ("cached_inputs",)
    color = "#d3d3d3"

    def __init__(self, message: str | None = None, result: Any = None, **kw: Any) -> None:
        self.cached_inputs: dict[str, Any] | None = kw.pop("cached_inputs", None)
        super().__init__(message, result, **kw)


class Scheduled(Pending):
    """Waiting for ``start_time``."""

    __slots__ = ("start_time",)
    color = "#ffab00"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime | None = None,
        **kw: Any,
    ) -> None:
        self.start_time = start_time
        super().__init__(message, result, **kw)


class Submitted(Pending):
    """Handed to an executor or an agent, not running yet."""

    __slots__ = ()
    color = "#fff9c4"


class Paused(Pending):
    """Waits for approval (``manual_only``) or a ``PAUSE`` signal."""

    __slots__ = ()
    color = "#99ccff"


class Retrying(Scheduled):
    """Failed an attempt and will run again at ``start_time``."""

    __slots__ = ("run_count",)
    color = "#ffea00"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime | None = None,
        run_count: int = 1,
        **kw: Any,
    ) -> None:
        self.run_count = run_count
        super().__init__(message, result, start_time, **kw)


class Resume(Scheduled):
    """Approval for a paused task: its trigger is not checked again."""

    __slots__ = ()
    color = "#99ccff"


class Running(State):
    __slots__ = ()
    color = "#00b0ff"


class Finished(State):
    """Base of the final states."""

    __slots__ = ()
    color = "#7f7f7f"


class Success(Finished):
    """Finished well. ``cache_entry`` (set only on a run of a task with ``cache_for``) is
    the entry the flow runner adds to the cache; unset otherwise, so it costs nothing."""

    __slots__ = ("cache_entry",)
    cache_entry: Cached
    color = "#28a745"


class Cached(Success):
    """Success taken from an earlier run's result (cache or existing target)."""

    __slots__ = ("cache_expiration", "cached_inputs", "cached_parameters")
    color = "#1e7e34"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        cached_inputs: dict[str, Any] | None = None,
        cached_parameters: dict[str, Any] | None = None,
        cache_expiration: datetime | None = None,
        **kw: Any,
    ) -> None:
        self.cached_inputs = cached_inputs
        self.cached_parameters = cached_parameters
        self.cache_expiration = cache_expiration
        super().__init__(message, result, **kw)


class Mapped(Success):
    """A mapped task's parent: its children ran; ``map_states`` lists their states."""

    __slots__ = ("map_states",)
    color = "#97fcb2"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        map_states: Sequence[State] | None = None,
        **kw: Any,
    ) -> None:
        self.map_states: list[State] = list(map_states or [])
        super().__init__(message, result, **kw)

    @property
    def result(self) -> Any:
        return [s.result for s in self.map_states]

    @result.setter
    def result(self, value: Any) -> None:
        pass

    @property
    def n_map_states(self) -> int:
        return len(self.map_states)


class Skipped(Success):
    """Did not run, on purpose; counts as success for triggers and for the flow."""

    __slots__ = ()
    color = "#62757f"


class Failed(Finished):
    __slots__ = ()
    color = "#dc3545"


class TriggerFailed(Failed):
    """Did not run because its trigger said no."""

    __slots__ = ()
    color = "#c42800"


class TimedOut(Failed):
    """Ran longer than its timeout."""

    __slots__ = ()
    color = "#cc6600"


class Cancelled(Finished):
    __slots__ = ()
    color = "#bdbdbd"


_BY_NAME: dict[str, type[State]] = {
    cls.__name__: cls
    for cls in (
        State,
        Pending,
        Scheduled,
        Submitted,
        Paused,
        Retrying,
        Resume,
        Running,
        Finished,
        Success,
        Cached,
        Mapped,
        Skipped,
        Failed,
        TriggerFailed,
        TimedOut,
        Cancelled,
    )
}


def state_class(name: str) -> type[State]:
    """The state class called ``name`` (``"Success"`` -> :class:`Success`)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown state {name!r}; expected one of {', '.join(sorted(_BY_NAME))}"
        ) from None
