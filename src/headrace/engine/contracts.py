"""The engine's call shapes, in one place: what it hands executors and what it calls back.

- :class:`Runnable`: what the flow runner submits to an executor. A task runner (one task
  run) or a chunk runner (a slice of a mapped task's children); the executor calls it with
  the submitted arguments, names its work after ``runnable.task`` and, when the workers
  running a call keep dying, asks ``runnable.on_worker_lost(error, *args)`` for the
  state(s) that call ends in instead of failing the whole run.
- :class:`ExecutorLike`: what the engine needs of an executor (``start``, ``submit``,
  ``wait``); :class:`headrace.executors.base.Executor` is the full base class.
- :data:`Listener`, :data:`FlowListener`: hear every task / flow state change (the backend
  reports them); :data:`Recall`: asked for mapped children finished outside this process.
- :data:`StateHandler`, :data:`Trigger`: the user's hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from headrace.core.edge import Edge
    from headrace.core.flow import Flow
    from headrace.core.task import Task
    from headrace.engine.state import State

__all__ = [
    "ExecutorLike",
    "FlowListener",
    "Listener",
    "Recall",
    "Runnable",
    "StateHandler",
    "Trigger",
    "task_of",
]

#: (task, map index or None, old state, new state): told of every applied task state.
Listener = Callable[["Task", "int | None", "State", "State"], None]
#: (flow, old state, new state): told of every applied flow state.
FlowListener = Callable[["Flow", "State", "State"], None]
#: (task slug, first map index, count) -> the finished states of those mapped children
#: recorded outside this process, None where there is none.
Recall = Callable[[str, int, int], "Sequence[State | None] | None"]
#: (task or flow, old state, new state) -> a replacement state, or None to keep ``new``.
StateHandler = Callable[[Any, "State", "State"], "State | None"]
#: the upstream states by edge -> whether the task may run (or raises a signal).
Trigger = Callable[["Mapping[Edge, State]"], bool]


@runtime_checkable
class Runnable(Protocol):
    """A call the engine hands an executor, with the task it runs and its worker-loss hook."""

    @property
    def task(self) -> Task:
        """The task this call runs (executors name their work after it)."""
        ...

    def __call__(self, *args: Any) -> Any:
        """Run; the arguments are those given to ``submit``, futures resolved."""
        ...

    def on_worker_lost(self, error: BaseException, *args: Any) -> Any:
        """What the call ends in when the workers running it kept dying: ``error`` and
        the call's own arguments in, the state(s) it would have returned out."""
        ...


class ExecutorLike(Protocol):
    """What the flow runner uses of an executor."""

    def start(self) -> AbstractContextManager[Any]: ...

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    def wait(self, futures: Any) -> Any: ...


def task_of(fn: object) -> Task | None:
    """The task of a :class:`Runnable`, None for any other callable (cheap: executors ask
    it for every call they name)."""
    task: Task | None = getattr(fn, "task", None)
    return task
