"""``on_failure=`` callbacks of tasks and flows, as state handlers.

Prefect's ``on_failure(task_or_flow, state)`` is called when the task or flow enters a
failed state; headrace runs it as one more state handler (so it sees the state the other
handlers settled on and runs wherever the task runs). Its return value is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["OnFailure"]


class OnFailure:
    """A state handler that calls ``fn(owner, new_state)`` when ``new_state`` is failed."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any, Any], Any]) -> None:
        if not callable(fn):
            raise TypeError(f"on_failure must be callable, not {fn!r}")
        self.fn = fn

    @property
    def __name__(self) -> str:  # handlers are named in errors by their __name__
        return f"on_failure {getattr(self.fn, '__name__', self.fn)!s}"

    def __repr__(self) -> str:
        return f"<{self.__name__}>"

    def __call__(self, owner: Any, old: Any, new: Any) -> None:
        if new.is_failed():
            self.fn(owner, new)
