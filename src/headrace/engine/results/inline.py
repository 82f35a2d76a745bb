"""Results that need no storage of their own.

- ``PrefectResult``: a small JSON value kept *as its location*, so it lives in the state the
  server stores (Prefect's ``PrefectResult``): no file, no bucket, and a restart reads it
  straight from the server's database. Values over :data:`MAX_INLINE_BYTES` are refused.
- ``ConstantResult``: a fixed value; reading gives it, writing is refused (as in Prefect).
- ``SecretResult``: stores only a secret's *name*; reading resolves the secret again with
  the task that fetched it, so a restarted run never finds a secret value in a result.
"""

from __future__ import annotations

import json
from typing import Any

from headrace.engine.errors import ResultError
from headrace.engine.results.base import Result
from headrace.engine.results.serializers import JSONSerializer

__all__ = ["MAX_INLINE_BYTES", "ConstantResult", "PrefectResult", "SecretResult"]

# A PrefectResult's JSON rides in every state report of its task: keep it small.
MAX_INLINE_BYTES = 64 * 1024


class PrefectResult(Result):
    """A JSON value stored in the server's database, inside the task run's state."""

    def __init__(self, location: str | None = None, value: Any = None, **kwargs: Any) -> None:
        kwargs.pop("serializer", None)
        super().__init__(value=value, location=location, serializer=JSONSerializer())

    def render_location(self, location: Any, kwargs: dict[str, Any]) -> str:
        return str(location) if location is not None else "null"

    def exists(self, location: str, /, **kwargs: Any) -> bool:
        return location is not None

    def read(self, location: str) -> Result:
        new = self.copy()
        new.location = location
        try:
            new.value = json.loads(location)
        except ValueError as exc:
            raise ResultError(f"a PrefectResult location is not JSON: {exc}") from None
        return new

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        text = self.serializer.serialize(value).decode()
        if len(text) > MAX_INLINE_BYTES:
            raise ResultError(
                f"a PrefectResult keeps at most {MAX_INLINE_BYTES} bytes of JSON in the "
                f"server's database; this value has {len(text)} (use an FSSpecResult)"
            )
        new = self.copy()
        new.location = text
        new.value = value
        return new


class ConstantResult(Result):
    """A constant: ``read`` gives ``value`` back, ``write`` is refused. Its location is the
    value's JSON when it has one, so a state holding it survives a restart."""

    def __init__(self, value: Any = None, location: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("serializer", None)
        if location is None:
            try:
                location = json.dumps(value)
            except (TypeError, ValueError):
                location = None
        super().__init__(value=value, location=location, serializer=JSONSerializer())

    def exists(self, location: str, /, **kwargs: Any) -> bool:
        return True

    def read(self, location: str) -> Result:
        new = self.copy()
        if self.value is None and location not in (None, "null"):
            try:
                new.value = json.loads(location)
            except ValueError as exc:
                raise ResultError(f"a ConstantResult location is not JSON: {exc}") from None
        return new

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        raise ResultError("a ConstantResult holds a constant: values cannot be written to it")


class SecretResult(Result):
    """Keeps the name a secret task fetched, never its value; ``read`` fetches it again by
    calling ``secret_task.run(name=location)``."""

    def __init__(self, secret_task: Any, location: str | None = None, **kwargs: Any) -> None:
        if not callable(getattr(secret_task, "run", None)):
            raise ResultError(f"SecretResult needs a secret task, not {secret_task!r}")
        self.secret_task = secret_task
        name = getattr(secret_task, "secret_name", None) or getattr(secret_task, "var_name", None)
        kwargs.pop("serializer", None)
        super().__init__(location=location or name, serializer=JSONSerializer())

    def render_location(self, location: Any, kwargs: dict[str, Any]) -> str:
        return str(location or kwargs.get("name") or self.secret_task.name)

    def exists(self, location: str, /, **kwargs: Any) -> bool:
        return True

    def read(self, location: str) -> Result:
        new = self.copy()
        new.location = location
        new.value = self.secret_task.run(name=location)
        return new

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        """Records the secret's name only (the value stays in memory, never persisted)."""
        new = self.format(**kwargs)
        new.value = value
        return new
