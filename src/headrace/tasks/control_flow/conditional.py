"""Branching tasks: ``switch``, ``ifelse`` and ``merge``, and the task that compares a
condition's result with a case's value.

A branch not taken ends ``Skipped``: its ``CompareValue`` raises ``SKIP``, and every task
downstream of it skips too (``skip_on_upstream_skip``) until a ``merge``, which runs when
at least one of its inputs did not skip and returns the first result that is not ``None``
(a skipped task's result is ``None``). With ``mapped=True`` each mapped child branches on
its own item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace.core import active
from headrace.core.errors import NoActiveFlowError
from headrace.core.flow import Flow
from headrace.core.task import Task
from headrace.engine.signals import SKIP, HeadraceSignal
from headrace.engine.triggers import not_all_skipped

__all__ = ["CompareValue", "Merge", "ifelse", "merge", "switch"]


class CompareValue(Task):
    """Succeeds when its input equals ``value``; raises ``SKIP`` otherwise."""

    __slots__ = ("value",)

    def __init__(self, value: Any, **kwargs: Any) -> None:
        self.value = value
        kwargs.setdefault("name", f"CompareValue: {value!r}")
        super().__init__(**kwargs)

    def run(self, value: Any) -> None:  # type: ignore[override]
        if value != self.value:
            raise SKIP(f"Value {value!r} did not match {self.value!r}.")


class Merge(Task):
    """Returns the first of its inputs ``task_1, task_2, ...`` that is not ``None`` (nor
    the signal a task that raised ``SKIP`` holds): the result of the first branch that
    ran. Skips only when every input skipped."""

    __slots__ = ()

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.setdefault("skip_on_upstream_skip", False):
            raise ValueError("Merge tasks need skip_on_upstream_skip=False")
        kwargs.setdefault("trigger", not_all_skipped)
        super().__init__(**kwargs)

    def run(self, **task_results: Any) -> Any:
        ordered = sorted(task_results.items(), key=lambda kv: _position(kv[0]))
        return next((v for _, v in ordered if v is not None and not _skip_mark(v)), None)


def _skip_mark(value: Any) -> bool:
    """A skipped input: a task that raised ``SKIP`` holds the signal as its result."""
    return isinstance(value, HeadraceSignal)


def _position(key: str) -> int:
    _, _, number = key.partition("_")
    return int(number) if number.isdigit() else 0


def _flow(flow: Flow | None, what: str) -> Flow:
    found = flow or active.active_flow()
    if found is None:
        raise NoActiveFlowError(f"{what} needs a flow: use it inside `with Flow(...):`")
    return found


def switch(
    condition: Task, cases: Mapping[Any, Task], mapped: bool = False, flow: Flow | None = None
) -> None:
    """Run the task of ``cases`` whose key equals ``condition``'s result; the others skip.

    Each case's task (and everything downstream of it) waits for a ``CompareValue`` of
    its key; ``mapped=True`` compares each mapped child of ``condition`` on its own.
    """
    target = _flow(flow, "switch(...)")
    if not isinstance(condition, Task):
        raise TypeError(f"switch(...): condition must be a task, not {condition!r}")
    for value, branch in cases.items():
        if not isinstance(branch, Task):
            raise TypeError(f"switch(...): the case {value!r} must be a task, not {branch!r}")
        match = CompareValue(value)
        target.set_dependencies(match, keyword_tasks={"value": condition}, mapped=mapped)
        target.add_edge(match, branch, mapped=mapped)


def _as_bool(x: Any) -> bool:
    return bool(x)


def ifelse(
    condition: Task,
    true_task: Task | None,
    false_task: Task | None,
    mapped: bool = False,
    flow: Flow | None = None,
) -> None:
    """Run ``true_task`` when ``condition``'s result is truthy, else ``false_task``; the
    other skips (either may be ``None``: nothing runs on that side)."""
    from headrace.core.task import FunctionTask

    target = _flow(flow, "ifelse(...)")
    cases = {k: t for k, t in ((True, true_task), (False, false_task)) if t is not None}
    if not cases:
        return
    as_bool = FunctionTask(_as_bool, name="as_bool")
    truth = as_bool(condition, mapped=mapped, flow=target)
    switch(truth, cases, mapped=mapped, flow=target)


def merge(*tasks: Task, flow: Flow | None = None, mapped: bool = False) -> Task:
    """A task whose result is the first non-skipped (non-``None``) result of ``tasks``,
    in the order given: how the branches of a ``case``/``switch`` join again."""
    target = _flow(flow, "merge(...)")
    for t in tasks:
        if not isinstance(t, Task):
            raise TypeError(f"merge(...) takes tasks, not {t!r}")
    merged = Merge(name="merge")
    target.set_dependencies(
        merged, keyword_tasks={f"task_{i}": t for i, t in enumerate(tasks, 1)}, mapped=mapped
    )
    return merged
