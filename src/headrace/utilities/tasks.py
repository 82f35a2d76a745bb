"""Task helpers at Prefect 1's import path (``prefect.utilities.tasks``).

``task``, ``tags`` and ``apply_map`` are the model's own; ``as_task``, ``pause_task`` and
``defaults_from_attrs`` are defined here with Prefect 1's behaviour.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from headrace.core.apply_map import apply_map
from headrace.core.tagging import tags
from headrace.core.task import Task, task

__all__ = ["apply_map", "as_task", "defaults_from_attrs", "pause_task", "tags", "task"]

F = TypeVar("F", bound=Callable[..., Any])


def as_task(value: Any, flow: Any = None) -> Task:
    """``value`` as a task: a task as it is; a list, tuple, set or dict holding tasks as a
    collection task that gathers their results (added to ``flow``, else the flow being
    built); any other value as a ``Constant`` task."""
    from headrace.core import active
    from headrace.core.binding import as_upstream
    from headrace.core.builtins import Constant

    if isinstance(value, Task):
        return value
    target = flow or active.active_flow()
    if target is not None:
        upstream, _, _ = as_upstream(value, target, False)
        if isinstance(upstream, Task):
            return upstream
    return Constant(value)


def pause_task(message: str | None = None, duration: Any = None) -> None:
    """Pause the task run that calls it (``Paused`` until it is resumed), unless the run was
    resumed already (``context.resume``). ``duration`` (a ``timedelta``) is when a paused
    run may resume on its own, as in Prefect."""
    from datetime import UTC, datetime

    from headrace.engine.signals import ENDRUN
    from headrace.engine.state import Paused
    from headrace.runcontext import current

    if current().get("resume", False):
        return
    start = datetime.now(UTC) + duration if duration is not None else None
    raise ENDRUN(Paused(message or "pause_task was called", start_time=start))


def defaults_from_attrs(*attr_names: str) -> Callable[[F], F]:
    """Decorate a task's ``run`` so each of ``attr_names`` left ``None`` in a call takes
    the value of the task attribute of the same name (set in ``__init__``), as Prefect's
    task library does."""

    def decorator(method: F) -> F:
        signature = inspect.signature(method)
        unknown = [n for n in attr_names if n not in signature.parameters]
        if unknown:
            raise TypeError(
                f"defaults_from_attrs: {method.__qualname__} has no argument(s) {unknown}"
            )

        @functools.wraps(method)
        def method_with_defaults(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind_partial(self, *args, **kwargs)
            for name in attr_names:
                if bound.arguments.get(name) is None:
                    bound.arguments[name] = getattr(self, name)
            return method(*bound.args, **bound.kwargs)

        return method_with_defaults  # type: ignore[return-value]

    return decorator
