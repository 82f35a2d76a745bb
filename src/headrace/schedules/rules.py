"""Named functions of a datetime that a schedule can send to the server as JSON.

Prefect 1's filters and adjustments are plain functions; the server could only run them by
importing user code. Here each one is a :class:`Rule`: a callable that also knows its name
and JSON arguments, and :func:`load_rule` rebuilds it from a registry of headrace's own.
A schedule may still hold any callable for local runs; serializing it names the culprit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from headrace.schedules.errors import ScheduleError

__all__ = ["Rule", "load_rule", "rule_document"]

R = TypeVar("R")


class Rule(Generic[R]):
    """A function of a datetime with a name and the JSON arguments that rebuild it."""

    __slots__ = ("args", "fn", "name")

    def __init__(self, name: str, args: list[Any], fn: Callable[[datetime], R]) -> None:
        self.name = name
        self.args = args
        self.fn = fn

    def __call__(self, when: datetime) -> R:
        return self.fn(when)

    def __repr__(self) -> str:
        inner = ", ".join(repr(a) for a in self.args)
        return f"{self.name}({inner})" if self.args else self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and (self.name, self.args) == (other.name, other.args)

    def __hash__(self) -> int:
        return hash((self.name, repr(self.args)))

    def serialize(self) -> dict[str, Any]:
        return {"name": self.name, "args": list(self.args)}


def rule_document(fn: object, where: str) -> dict[str, Any]:
    """``fn``'s JSON document; a plain function (which the server cannot load) is an error."""
    if isinstance(fn, Rule):
        return fn.serialize()
    name = getattr(fn, "__qualname__", type(fn).__name__)
    raise ScheduleError(
        f"{where}: {name!r} is not one of headrace's schedule filters or adjustments, so the "
        "schedule cannot be serialized (the server never imports user code)"
    )


def load_rule(doc: Any, registry: dict[str, Callable[..., Rule[Any]]], where: str) -> Rule[Any]:
    """The rule ``doc`` describes, built by ``registry[doc["name"]](*doc["args"])``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise ScheduleError(f"{where}: each entry must be an object with a name, not {doc!r}")
    factory = registry.get(doc["name"])
    if factory is None:
        known = ", ".join(sorted(registry))
        raise ScheduleError(f"{where}: unknown {doc['name']!r} (known: {known})")
    args = doc.get("args") or []
    if not isinstance(args, list):
        raise ScheduleError(f"{where}: {doc['name']} args must be a list, not {args!r}")
    try:
        return factory(*args)
    except TypeError as exc:
        raise ScheduleError(f"{where}: bad arguments for {doc['name']}: {exc}") from None
