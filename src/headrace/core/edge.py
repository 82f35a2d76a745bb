"""Edges between tasks, and the markers that change how an argument is mapped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.core.task import Task

__all__ = ["Edge", "flatten", "mapped", "unmapped"]


@dataclass(frozen=True, slots=True)
class Edge:
    """``upstream_task`` runs before ``downstream_task``.

    ``key`` names the downstream argument that receives the upstream result (``None`` for
    an ordering-only edge). ``mapped`` maps the downstream task over the upstream result;
    ``flattened`` first concatenates a mapped upstream's list-valued children.
    """

    upstream_task: Task
    downstream_task: Task
    key: str | None = None
    mapped: bool = False
    flattened: bool = False

    def __repr__(self) -> str:
        arrow = f" (key={self.key!r}{', mapped' if self.mapped else ''})" if self.key else ""
        return f"<Edge {self.upstream_task.name!r} -> {self.downstream_task.name!r}{arrow}>"


class unmapped:
    """Hold an argument of ``task.map(...)`` constant across all mapped children."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class flatten:
    """Map over the concatenation of a mapped upstream's list results (one level)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class mapped:
    """Map over this argument in a plain call: ``add(mapped(xs), 10)`` is
    ``add.map(xs, unmapped(10))`` (Prefect's ``mapped``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
