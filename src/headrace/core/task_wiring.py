"""The functional and imperative APIs of a task: the methods that wire it into a flow.

``task(...)`` and ``task.map(...)`` add a copy of the task fed by their arguments;
``bind``, ``set_upstream`` and ``set_downstream`` wire the task itself; iterating a task
made with ``nout=`` unpacks its result. The graph they build lives on the flow
(:meth:`Flow.set_dependencies`); :class:`~headrace.core.task.Task` inherits these methods.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

from headrace.core import active
from headrace.core.errors import NoActiveFlowError
from headrace.core.graph import call_signature

if TYPE_CHECKING:
    from headrace.core.flow import Flow
    from headrace.core.task import Task

__all__ = ["TaskWiring"]


class TaskWiring:
    """Wiring methods of :class:`~headrace.core.task.Task` (no state of its own)."""

    __slots__ = ()

    if TYPE_CHECKING:
        name: str
        nout: int | None

        def copy(self, **overrides: Any) -> Task: ...

    def _as_task(self) -> Task:
        return cast("Task", self)

    def __call__(
        self,
        *args: Any,
        mapped: bool = False,
        task_args: dict[str, Any] | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Add a copy of this task to the active flow, fed by ``args``/``kwargs``."""
        return self._add_copy("calling", args, kwargs, mapped, task_args, upstream_tasks, flow)

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """Add a copy mapped over its arguments (``unmapped(x)`` holds one constant)."""
        return self._add_copy("mapping", args, kwargs, True, task_args, upstream_tasks, flow)

    def _add_copy(
        self,
        action: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        mapped: bool,
        task_args: dict[str, Any] | None,
        upstream_tasks: Iterable[Any] | None,
        flow: Flow | None,
    ) -> Task:
        """What calling and mapping share: a copy of the task (with ``task_args``) wired
        into the flow; ``action`` names the call in the error when there is no flow."""
        target_flow = self._flow_or_active(flow, action)
        callargs = self._callargs(args, kwargs, partial=False)
        new = self.copy(**(task_args or {}))
        target_flow.set_dependencies(
            new, upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=mapped
        )
        return new

    def _flow_or_active(self, flow: Flow | None, action: str) -> Flow:
        flow = flow or active.active_flow()
        if flow is None:
            raise NoActiveFlowError(
                f"Task {self.name!r}: {action} needs a flow: use it inside `with Flow(...):` "
                f"or pass flow=. To call the task's function directly, use "
                f"`{self.name}.run(...)`."
            )
        return flow

    def bind(
        self,
        *args: Any,
        mapped: bool = False,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Feed this task (itself, not a copy) from ``args``/``kwargs`` in ``flow``.

        Arguments may be fed over several calls (``set_upstream(key=...)`` then ``bind``);
        :meth:`Flow.validate` reports any still unfed when the flow runs.
        """
        target_flow = self._flow_or_active(flow, "binding")
        callargs = self._callargs(args, kwargs, partial=True)
        target_flow.set_dependencies(
            self._as_task(), upstream_tasks=upstream_tasks, keyword_tasks=callargs, mapped=mapped
        )
        return self._as_task()

    def _callargs(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], partial: bool
    ) -> dict[str, Any]:
        """``args``/``kwargs`` as ``{argument name: value}`` for ``run``; TypeError names the
        task when they do not fit its signature."""
        signature = call_signature(self._as_task())
        try:
            bound = (signature.bind_partial if partial else signature.bind)(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"Task {self.name!r}: {exc}") from None
        callargs: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            if signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                callargs.update(value)
            else:
                callargs[key] = value
        return callargs

    def set_upstream(
        self, task: Any, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make ``task`` run before this one (feeding argument ``key`` if given)."""
        target_flow = self._flow_or_active(flow, "set_upstream")
        if key is not None:
            target_flow.set_dependencies(self._as_task(), keyword_tasks={key: task}, mapped=mapped)
        else:
            target_flow.set_dependencies(self._as_task(), upstream_tasks=[task], mapped=mapped)
        return self._as_task()

    def set_downstream(
        self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make this task run before ``task`` (feeding its argument ``key`` if given)."""
        target_flow = self._flow_or_active(flow, "set_downstream")
        if key is not None:
            target_flow.set_dependencies(task, keyword_tasks={key: self}, mapped=mapped)
        else:
            target_flow.set_dependencies(task, upstream_tasks=[self], mapped=mapped)
        return self._as_task()

    def __iter__(self) -> Iterator[Task]:
        """With ``nout=n``: ``a, b = my_task(...)`` gives one task per element."""
        if self.nout is None:
            raise TypeError(
                f"Task {self.name!r} is not iterable; give it nout= to unpack its result"
            )
        from headrace.core.builtins import GetItem  # builtins subclass Task

        flow = self._flow_or_active(None, "unpacking")
        for index in range(self.nout):
            yield GetItem(name=f"{self.name}[{index}]").bind(self, index, flow=flow)
