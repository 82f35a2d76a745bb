"""``with case(task, value):``: the tasks made inside the block run only when ``task``'s
result equals ``value``; otherwise they end ``Skipped``.

The block collects the tasks the flow adds while it is open. When it closes it adds one
``CompareValue`` fed by ``task`` and makes it upstream of every collected task that has no
upstream task inside the block, so the whole branch hangs off the comparison and skips
with it. Blocks nest: an inner block's comparison is one of the outer block's tasks.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from headrace.core import active
from headrace.core.errors import NoActiveFlowError
from headrace.core.flow import Flow
from headrace.core.task import Task
from headrace.tasks.control_flow.conditional import CompareValue

__all__ = ["case"]


class case:
    """A conditional block: ``with case(check, "a"): ...`` (Prefect's ``case``)."""

    def __init__(self, task: Task, value: Any) -> None:
        if not isinstance(task, Task):
            raise TypeError(f"case(...) compares the result of a task, not {task!r}")
        self.task = task
        self.value = value
        self._tasks: dict[Task, None] = {}
        self._flow: Flow | None = None
        self._collecting: AbstractContextManager[None] | None = None

    def __repr__(self) -> str:
        return f"<case {self.task.name!r} == {self.value!r}>"

    def _collect(self, flow: Flow, task: Task) -> None:
        if flow is self._flow:
            self._tasks[task] = None

    def __enter__(self) -> case:
        flow = active.active_flow()
        if flow is None:
            raise NoActiveFlowError("case(...) needs a flow: use it inside `with Flow(...):`")
        self._flow = flow
        self._tasks = {}
        self._collecting = active.collecting(self._collect)
        self._collecting.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._collecting is not None and self._flow is not None
        self._collecting.__exit__(None, None, None)
        self._collecting = None
        flow, children = self._flow, self._tasks
        if exc[0] is not None or not children:
            return
        match = CompareValue(self.value, name=f"case({self.value!r})")
        flow.set_dependencies(match, keyword_tasks={"value": self.task})
        for child in children:
            if child is self.task or any(up in children for up in flow.upstream_tasks(child)):
                continue
            flow.add_edge(match, child)
