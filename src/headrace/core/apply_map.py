"""``apply_map(fn, *args, **kwargs)``: map a Python function that builds tasks.

``fn`` is called once, in a scratch flow, with the arguments standing in for one item
each: tasks stay tasks, plain values are mapped over (``unmapped(x)`` holds one for every
child). The graph it builds is then copied into the real flow with every edge that
carries a per-item value mapped: from a mapped argument, or from a task of ``fn`` that is
itself mapped. So each task ``fn`` made becomes a mapped task, child *i* of each reading
child *i* of the others, and control flow inside ``fn`` (a ``case`` block) branches per
item. A task of ``fn`` fed by no mapped value stays a plain task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headrace.core import active
from headrace.core.builtins import Constant
from headrace.core.edge import flatten, unmapped
from headrace.core.errors import NoActiveFlowError
from headrace.core.flow import Flow
from headrace.core.task import Task

__all__ = ["apply_map"]


def apply_map(fn: Callable[..., Any], *args: Any, flow: Flow | None = None, **kwargs: Any) -> Any:
    """Call ``fn`` as if once per item of the mapped arguments, building mapped tasks;
    returns what ``fn`` returns (its tasks, now mapped tasks of the flow)."""
    target = flow or active.active_flow()
    if target is None:
        raise NoActiveFlowError(
            f"apply_map({getattr(fn, '__name__', fn)!r}, ...) needs a flow: use it inside "
            f"`with Flow(...):` or pass flow="
        )
    if not callable(fn):
        raise TypeError(f"apply_map needs a callable, not {type(fn).__name__}")
    mapped_inputs: set[Task] = set()
    inputs: set[Task] = set()

    def stand_in(value: Any) -> Any:
        if isinstance(value, unmapped):
            if isinstance(value.value, Task):
                target.add_task(value.value)
                inputs.add(value.value)
            return value.value
        if isinstance(value, flatten):
            raise TypeError("apply_map does not take flatten(...) arguments")
        task = value if isinstance(value, Task) else Constant(value)
        target.add_task(task)
        inputs.add(task)
        mapped_inputs.add(task)
        return task

    scratch = Flow(f"apply_map({getattr(fn, '__name__', 'fn')})")
    with scratch:
        call_args = [stand_in(a) for a in args]
        call_kwargs = {k: stand_in(v) for k, v in kwargs.items()}
        for t in inputs:
            scratch.add_task(t)
        returned = fn(*call_args, **call_kwargs)
    _copy_mapped(scratch, target, inputs, mapped_inputs)
    return returned


def _copy_mapped(scratch: Flow, target: Flow, inputs: set[Task], mapped_inputs: set[Task]) -> None:
    """Add ``scratch``'s tasks (but the inputs, already in ``target``) to ``target``, every
    edge that carries a per-item value mapped."""
    is_mapped: set[Task] = set(mapped_inputs)
    for task in scratch.sorted_tasks():
        if task in inputs:
            continue
        target.add_task(task)
        for edge in scratch.edges_to(task):
            up = edge.upstream_task
            mapped = edge.mapped or up in is_mapped
            if mapped:
                is_mapped.add(task)
            target.add_edge(up, task, edge.key, mapped, edge.flattened)
        for key, value in scratch.constants.get(task, {}).items():
            target.add_constant(task, key, value)
