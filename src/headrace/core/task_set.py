"""``flow.tasks``: the flow's tasks as an insertion-ordered set.

Prefect users treat ``flow.tasks`` as a set (``flow.tasks == {a, b}``, ``flow.tasks | {c}``,
``t in flow.tasks``). headrace keeps it a dict underneath (tasks -> ``None``), which keeps
the order tasks were added in and makes membership a dict lookup; this class adds the set
comparisons and operators on top. Change it only through the flow's methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.core.task import Task

__all__ = ["TaskSet"]


class TaskSet(dict["Task", None]):
    """An insertion-ordered set of tasks that compares and combines like a ``set``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self)) + "}" if self else "TaskSet()"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, set | frozenset):
            return self.keys() == other
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def copy(self) -> TaskSet:
        return TaskSet(self)

    def union(self, *others: Iterable[Any]) -> set[Any]:
        return set(self).union(*others)

    def intersection(self, *others: Iterable[Any]) -> set[Any]:
        return set(self).intersection(*others)

    def difference(self, *others: Iterable[Any]) -> set[Any]:
        return set(self).difference(*others)

    def issubset(self, other: Iterable[Any]) -> bool:
        return set(self).issubset(other)

    def issuperset(self, other: Iterable[Any]) -> bool:
        return set(self).issuperset(other)

    def isdisjoint(self, other: Iterable[Any]) -> bool:
        return set(self).isdisjoint(other)

    def __or__(self, other: Any) -> set[Any]:  # type: ignore[override]
        return set(self) | set(other)

    __ror__ = __or__  # type: ignore[assignment]

    def __and__(self, other: Any) -> set[Any]:
        return set(self) & set(other)

    __rand__ = __and__

    def __sub__(self, other: Any) -> set[Any]:
        return set(self) - set(other)

    def __rsub__(self, other: Any) -> set[Any]:
        return set(other) - set(self)

    def __xor__(self, other: Any) -> set[Any]:
        return set(self) ^ set(other)

    __rxor__ = __xor__

    def __le__(self, other: Any) -> bool:
        return self.keys() <= set(other)

    def __ge__(self, other: Any) -> bool:
        return self.keys() >= set(other)

    def __lt__(self, other: Any) -> bool:
        return self.keys() < set(other)

    def __gt__(self, other: Any) -> bool:
        return self.keys() > set(other)
