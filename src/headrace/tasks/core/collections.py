"""Collection tasks: gather task results into a ``List``, ``Tuple``, ``Set`` or ``Dict``.

``List()(a, b, c)`` in a flow is a task whose result is ``[a's result, b's, c's]``
(plain values are constants); ``Dict()(keys=[...], values=[...])`` zips two lists into a
dict. headrace builds the same tasks itself when a task is called with a collection that
holds tasks.
"""

from __future__ import annotations

from typing import Any

from headrace.core import builtins
from headrace.core.task import Task

__all__ = ["Dict", "List", "Set", "Tuple", "VarArgsTask"]


class _VarArgs:
    """Positional arguments of a call become the inputs ``arg_0, arg_1, ...``."""

    __slots__ = ()

    def _callargs(  # the wiring methods' hook: how call arguments map to inputs
        self, args: tuple[Any, ...], kwargs: dict[str, Any], partial: bool
    ) -> dict[str, Any]:
        given = {f"arg_{i}": value for i, value in enumerate(args)}
        clash = sorted(set(given) & set(kwargs))
        if clash:
            raise TypeError(f"{type(self).__name__}: input(s) {clash} given twice")
        return {**given, **kwargs}


class VarArgsTask(_VarArgs, Task):
    """Base of tasks called with any number of positional arguments: they reach ``run``
    as the keyword inputs ``arg_0, arg_1, ...`` (subclass it and write ``run(**kwargs)``)."""

    __slots__ = ()


class List(_VarArgs, builtins.List):
    """The results of its positional inputs, as a list in call order."""

    __slots__ = ()


class Tuple(_VarArgs, builtins.Tuple):
    """The results of its positional inputs, as a tuple."""

    __slots__ = ()


class Set(_VarArgs, builtins.Set):
    """The results of its positional inputs, as a set."""

    __slots__ = ()


class Dict(Task):
    """``dict(zip(keys, values))`` of its two inputs."""

    __slots__ = ()

    def run(self, keys: Any, values: Any) -> dict[Any, Any]:  # type: ignore[override]
        keys, values = list(keys), list(values)
        if len(keys) != len(values):
            raise ValueError(f"Dict task {self.name!r}: {len(keys)} keys but {len(values)} values")
        return dict(zip(keys, values, strict=True))
