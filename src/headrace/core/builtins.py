"""Tasks headrace adds by itself: constants to map over, collections of task results, and
the items of an ``nout`` task."""

from __future__ import annotations

from typing import Any

from headrace.core.task import Task

__all__ = ["Constant", "Dict", "GetItem", "List", "Set", "Tuple"]


class Constant(Task):
    """Returns a fixed value; made when a plain value is mapped over."""

    __slots__ = ("value",)

    def __init__(self, value: Any, name: str | None = None, **kwargs: Any) -> None:
        self.value = value
        super().__init__(name=name or f"Constant[{type(value).__name__}]", **kwargs)

    def run(self) -> Any:
        return self.value


class GetItem(Task):
    """Returns ``task_result[key]``; made by unpacking a task that has ``nout``."""

    __slots__ = ()

    def run(self, task_result: Any, key: Any) -> Any:  # type: ignore[override]
        return task_result[key]


class List(Task):
    """Collects its keyword inputs ``arg_0, arg_1, ...`` into a list."""

    __slots__ = ()

    def run(self, **kwargs: Any) -> list[Any]:
        return [kwargs[f"arg_{i}"] for i in range(len(kwargs))]


class Tuple(List):
    __slots__ = ()

    def run(self, **kwargs: Any) -> tuple[Any, ...]:  # type: ignore[override]
        return tuple(super().run(**kwargs))


class Set(List):
    __slots__ = ()

    def run(self, **kwargs: Any) -> set[Any]:  # type: ignore[override]
        return set(super().run(**kwargs))


class Dict(Task):
    """Builds a dict from inputs ``key_i``/``value_i``."""

    __slots__ = ()

    def run(self, **kwargs: Any) -> dict[Any, Any]:
        n = len(kwargs) // 2
        return {kwargs[f"key_{i}"]: kwargs[f"value_{i}"] for i in range(n)}
