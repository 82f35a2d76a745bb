"""Turn the values passed to a task call into upstream tasks or constants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headrace.core.edge import flatten, unmapped
from headrace.core.edge import mapped as mapped_marker
from headrace.core.task import Task

if TYPE_CHECKING:
    from headrace.core.flow_building import FlowBuilding

__all__ = ["as_upstream"]


def _contains_task(value: Any) -> bool:
    if isinstance(value, Task):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return any(_contains_task(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_task(k) or _contains_task(v) for k, v in value.items())
    return False


def _collection_task(value: Any, flow: FlowBuilding) -> Task:
    from headrace.core import builtins

    if isinstance(value, dict):
        collector: Task = builtins.Dict(name="Dict")
        for i, (k, v) in enumerate(value.items()):
            flow.set_dependencies(collector, keyword_tasks={f"key_{i}": k, f"value_{i}": v})
        return collector
    cls: type[builtins.List] = builtins.Set
    if isinstance(value, list):
        cls = builtins.List
    elif isinstance(value, tuple):
        cls = builtins.Tuple
    collector = cls(name=cls.__name__)
    flow.add_task(collector)
    for i, item in enumerate(value):
        flow.set_dependencies(collector, keyword_tasks={f"arg_{i}": item})
    return collector


def as_upstream(value: Any, flow: FlowBuilding, mapped: bool) -> tuple[Any, bool, bool]:
    """``(task_or_constant, mapped, flattened)`` for one argument of a task call.

    A task is used as is; a collection holding tasks becomes a collection task; a plain
    value stays a constant, unless it is mapped over, when it becomes a ``Constant`` task so
    the engine can map over its edge. ``unmapped(x)``, ``flatten(x)`` and ``mapped(x)``
    override ``mapped`` for their argument.
    """
    flattened = False
    if isinstance(value, unmapped):
        value, mapped = value.value, False
    elif isinstance(value, flatten):
        value, mapped, flattened = value.value, True, True
    elif isinstance(value, mapped_marker):
        value, mapped = value.value, True
    if isinstance(value, Task):
        return value, mapped, flattened
    if _contains_task(value):
        return _collection_task(value, flow), mapped, flattened
    if mapped:
        from headrace.core.builtins import Constant

        return Constant(value), True, flattened
    return value, False, False
