"""The final states: ``Success`` and its kinds (cached, mapped, skipped), ``Failed`` and
its kinds (trigger failed, timed out), and ``Cancelled``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from headrace.engine.state.base import State

if TYPE_CHECKING:
    from headrace.engine.failure import ErrorInfo

__all__ = [
    "Cached",
    "Cancelled",
    "Failed",
    "Finished",
    "Looped",
    "Mapped",
    "Skipped",
    "Success",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
]


class Finished(State):
    """Base of the final states."""

    __slots__ = ()
    color = "#7f7f7f"


class Success(Finished):
    """Finished well. ``cache_entry`` (set only on a run of a task with ``cache_for``, by
    building the state with ``replace(state, cache_entry=...)``) is the entry the flow
    runner adds to the cache; unset otherwise, so it costs nothing."""

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

    @property
    def n_map_states(self) -> int:
        return len(self.map_states)


class Skipped(Success):
    """Did not run, on purpose; counts as success for triggers and for the flow."""

    __slots__ = ()
    color = "#62757f"


class Looped(Finished):
    """One iteration of a looping task finished (it raised ``LOOP``); the task runs again
    with ``context.task_loop_result`` = this state's result and ``task_loop_count`` =
    ``loop_count + 1``. A run restarted from a ``Looped`` state resumes at that iteration."""

    __slots__ = ("loop_count",)
    color = "#003ccb"

    def __init__(
        self, message: str | None = None, result: Any = None, loop_count: int = 1, **kw: Any
    ) -> None:
        self.loop_count = loop_count
        super().__init__(message, result, **kw)


class Failed(Finished):
    """Finished badly. ``error`` is the exception that failed it (type, message and
    traceback as text), when one did."""

    __slots__ = ("error",)
    color = "#dc3545"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        *,
        error: ErrorInfo | None = None,
        **kw: Any,
    ) -> None:
        self.error = error
        super().__init__(message, result, **kw)


class TriggerFailed(Failed):
    """Did not run because its trigger said no."""

    __slots__ = ()
    color = "#c42800"


class ValidationFailed(Failed):
    """Its result did not pass validation (a ``VALIDATIONFAIL`` signal)."""

    __slots__ = ()
    color = "#b22222"


class TimedOut(Failed):
    """Ran longer than its timeout."""

    __slots__ = ()
    color = "#cc6600"


class Cancelled(Finished):
    __slots__ = ()
    color = "#bdbdbd"
