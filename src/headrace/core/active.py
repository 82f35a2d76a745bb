"""Which flow is being built by an enclosing ``with Flow(...)`` block."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headrace.core.flow import Flow

_active: ContextVar[Flow | None] = ContextVar("headrace_active_flow", default=None)


def active_flow() -> Flow | None:
    """The innermost flow under construction in this thread, if any."""
    return _active.get()


def push(flow: Flow) -> object:
    return _active.set(flow)


def pop(token: object) -> None:
    _active.reset(token)  # type: ignore[arg-type]
