"""The ``Result`` interface: a persisted value and the location that finds it again."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from headrace.engine.errors import ResultError
from headrace.engine.results.serializers import PickleSerializer, Serializer

__all__ = ["Result"]


class Result:
    """Persists task values. Subclasses implement ``exists``, ``read`` and ``write``.

    ``location`` is a template (``"{flow_name}/{task_slug}/{map_index}.pickle"``) or a
    callable taking the same keywords; :meth:`format` fills it from the run's context,
    parameters and the task's inputs.
    """

    def __init__(
        self,
        value: Any = None,
        location: str | Callable[..., str] | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        self.value = value
        self.location = location
        self.serializer = serializer or PickleSerializer()
        if not isinstance(self.serializer, Serializer):
            raise TypeError(
                f"serializer must be a Serializer, not {type(self.serializer).__name__}"
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} location={self.location!r}>"

    def copy(self) -> Result:
        return copy.copy(self)

    def format(self, **kwargs: Any) -> Result:
        """A copy whose ``location`` template is filled from ``kwargs``."""
        new = self.copy()
        new.location = self.render_location(self.location, kwargs)
        return new

    def render_location(self, location: Any, kwargs: dict[str, Any]) -> str:
        if location is None:
            slug = kwargs.get("task_slug") or "result"
            return f"{slug}/{uuid.uuid4().hex}.{self.serializer.extension}"
        if callable(location):
            return str(location(**kwargs))
        try:
            return str(location).format(**kwargs)
        except (KeyError, IndexError) as exc:
            raise ResultError(
                f"the result location {location!r} names {exc} which the run does not have"
            ) from None

    def exists(self, location: str, /, **kwargs: Any) -> bool:
        raise NotImplementedError

    def read(self, location: str) -> Result:
        """A copy holding the value stored at ``location``."""
        raise NotImplementedError

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        """Store ``value``; returns a copy holding the value and its concrete location."""
        raise NotImplementedError

    def formatting_keys(self) -> frozenset[str] | None:
        """The keyword arguments :meth:`write` reads, when this result knows them: a run
        then passes only those (building every template key, a task run id among them,
        costs more than writing a mapped child's small result). None, the default: all of
        them (the run's context, parameters and the task's inputs), as a ``location``
        template or a subclass may read any."""
        return None

    def to_dict(self) -> dict[str, Any]:
        """What a state carries to the server: the type and concrete location, no value."""
        from headrace.utilities.imports import qualified_name

        return {
            "type": qualified_name(type(self)),
            "location": self.location if isinstance(self.location, str) else None,
            "serializer": qualified_name(type(self.serializer)),
        }
