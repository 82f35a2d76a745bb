"""The states before a run ends: waiting to start (``Pending`` and its kinds: scheduled,
submitted, paused, retrying, resumed) and ``Running``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from headrace.engine.state.base import State

if TYPE_CHECKING:
    from headrace.engine.failure import ErrorInfo

__all__ = [
    "Paused",
    "Pending",
    "Queued",
    "Resume",
    "Retrying",
    "Running",
    "Scheduled",
    "Submitted",
]


class Pending(State):
    """Not started yet."""

    __slots__ = ("cached_inputs",)
    color = "#d3d3d3"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        *,
        cached_inputs: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        self.cached_inputs = cached_inputs
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


class Queued(Submitted):
    """Submitted but held back (a concurrency limit was full): it runs once a slot frees,
    not before ``start_time`` when one is given."""

    __slots__ = ("start_time",)
    color = "#fff59d"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime | None = None,
        **kw: Any,
    ) -> None:
        self.start_time = start_time
        super().__init__(message, result, **kw)


class Paused(Pending):
    """Waits for approval (``manual_only``) or a ``PAUSE`` signal; ``start_time`` (as in
    Prefect) is when it may go on by itself, if ever."""

    __slots__ = ("start_time",)
    color = "#99ccff"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime | None = None,
        **kw: Any,
    ) -> None:
        self.start_time = start_time
        super().__init__(message, result, **kw)


class Retrying(Scheduled):
    """Failed an attempt and will run again at ``start_time``; ``error`` is what failed
    that attempt, when an exception did."""

    __slots__ = ("error", "run_count")
    color = "#ffea00"

    def __init__(
        self,
        message: str | None = None,
        result: Any = None,
        start_time: datetime | None = None,
        run_count: int = 1,
        *,
        error: ErrorInfo | None = None,
        **kw: Any,
    ) -> None:
        self.run_count = run_count
        self.error = error
        super().__init__(message, result, start_time, **kw)


class Resume(Scheduled):
    """Approval for a paused task: its trigger is not checked again."""

    __slots__ = ()
    color = "#99ccff"


class Running(State):
    __slots__ = ()
    color = "#00b0ff"
