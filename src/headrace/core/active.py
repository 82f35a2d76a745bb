"""Which flow is being built by an enclosing ``with Flow(...)`` block, and who watches the
tasks added to it.

Blocks that shape the tasks created inside them (``case``, a resource manager's ``with``,
``apply_map``) register a *collector* for the length of the block: every task a flow adds
while it is active is handed to it, so the block can wire those tasks when it closes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headrace.core.flow import Flow
    from headrace.core.task import Task

__all__ = ["Collector", "active_flow", "collecting", "pop", "push", "task_added"]

Collector = Callable[["Flow", "Task"], None]

_active: ContextVar[Flow | None] = ContextVar("headrace_active_flow", default=None)
_collectors: ContextVar[tuple[Collector, ...]] = ContextVar("headrace_collectors", default=())


def active_flow() -> Flow | None:
    """The innermost flow under construction in this thread, if any."""
    return _active.get()


def push(flow: Flow) -> object:
    return _active.set(flow)


def pop(token: object) -> None:
    _active.reset(token)  # type: ignore[arg-type]


@contextmanager
def collecting(collector: Collector) -> Iterator[None]:
    """Hand ``collector`` every task a flow adds until the block ends (innermost last)."""
    token = _collectors.set((*_collectors.get(), collector))
    try:
        yield
    finally:
        _collectors.reset(token)


def task_added(flow: Flow, task: Task) -> None:
    """Tell the active collectors that ``flow`` just added ``task``."""
    for collector in _collectors.get():
        collector(flow, task)
