"""``FilterTask``: keep the results of a mapped task that pass a filter (Prefect 1's
``prefect.tasks.control_flow.filter.FilterTask``).

By default it drops what a child that did not succeed leaves as its result: ``None``
(nothing ran), an exception (it failed) or a signal (it skipped or its trigger failed),
so a reduce after a map sees only real results. Its trigger is ``all_finished``: it runs
even when some children failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headrace.core.task import Task
from headrace.engine.triggers import all_finished

__all__ = ["FilterTask"]


def _is_result(value: Any) -> bool:
    return value is not None and not isinstance(value, BaseException)


class FilterTask(Task):
    """Returns the items of its ``task_results`` input for which ``filter_func`` is true;
    ``log_func(kept)`` may log what was kept."""

    __slots__ = ("filter_func", "log_func")

    def __init__(
        self,
        filter_func: Callable[[Any], bool] | None = None,
        log_func: Callable[[list[Any]], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        for what, fn in (("filter_func", filter_func), ("log_func", log_func)):
            if fn is not None and not callable(fn):
                raise TypeError(f"FilterTask: {what} must be callable, not {fn!r}")
        self.filter_func = filter_func or _is_result
        self.log_func = log_func
        kwargs.setdefault("skip_on_upstream_skip", False)
        kwargs.setdefault("trigger", all_finished)
        super().__init__(**kwargs)

    def run(self, task_results: list[Any]) -> list[Any]:  # type: ignore[override]
        kept = [r for r in task_results if self.filter_func(r)]
        if self.log_func is not None:
            self.log_func(kept)
        return kept
