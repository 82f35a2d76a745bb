"""``Parameter``: a flow input given at run time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from headrace.core.errors import ParameterValueError
from headrace.core.task import Task
from headrace.runcontext import context

__all__ = ["NO_DEFAULT", "DateTimeParameter", "Parameter"]


class _NoDefault:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT: Any = _NoDefault()


class Parameter(Task):
    """A named flow input. ``required`` defaults to "no ``default`` was given".

    Its slug is its name, so a flow cannot hold two parameters with one name. A ``secret``
    parameter's value is masked (``********``) in everything a backend run sends out (log
    lines, state messages, tracebacks) and its default is never serialized.
    """

    __slots__ = ("default", "required", "secret")

    def __init__(
        self,
        name: str,
        default: Any = NO_DEFAULT,
        required: bool | None = None,
        tags: Any = None,
        secret: bool = False,
    ) -> None:
        self.secret = bool(secret)
        if not isinstance(name, str) or not name:
            raise TypeError(f"a parameter's name must be a non-empty string, not {name!r}")
        self.required = (default is NO_DEFAULT) if required is None else bool(required)
        self.default = None if default is NO_DEFAULT else default
        super().__init__(name=name, slug=name, tags=tags)

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"

    def copy(self, **overrides: Any) -> Task:
        overrides.setdefault("slug", overrides.get("name", self.name))
        return super().copy(**overrides)

    def run(self) -> Any:
        return context.get("parameters", {}).get(self.name, self.default)


class DateTimeParameter(Parameter):
    """A parameter whose value is a ``datetime``: given as one, or as an ISO 8601 string
    (``"2024-03-01"``, ``"2024-03-01T06:30:00+00:00"``, a ``Z`` suffix too). ``None``
    stays ``None`` (a parameter that is not required); anything else fails the run's
    parameter task naming the parameter and the value."""

    __slots__ = ()

    def __init__(
        self,
        name: str,
        default: Any = NO_DEFAULT,
        required: bool | None = None,
        tags: Any = None,
    ) -> None:
        super().__init__(name, default=default, required=required, tags=tags)

    def run(self) -> Any:
        value = super().run()
        if value is None or isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        raise ParameterValueError(
            f"DateTimeParameter {self.name!r}: {value!r} is not an ISO 8601 date and time"
        )
