"""Engine states to and from the JSON the server keeps (``StateIn.serialized``).

A task state travels as its kind, message and, when its value was persisted, where the value
lives (the result's type, location and serializer, plus the directory of a ``LocalResult``).
A restarted run rebuilds successful states from that, and the value is read back lazily on
first access, so nothing is read that the restart does not need.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from headrace.engine.failure import ErrorInfo
from headrace.engine.results.base import Result
from headrace.engine.state import (
    NOT_LOADED,
    Failed,
    Looped,
    Mapped,
    Pending,
    Skipped,
    State,
    Success,
    state_class,
)
from headrace.utilities.imports import import_object
from headrace.utilities.secrets import redact

__all__ = ["error_json", "result_from_json", "state_from_json", "state_parts", "state_to_json"]


def _result_to_json(state: State) -> dict[str, Any] | None:
    result = state.persisted
    if result is None or not isinstance(result.location, str):
        return None
    cls = type(result)
    if cls.to_dict is not Result.to_dict:  # a result that describes itself its own way
        doc = result.to_dict()
        directory = getattr(result, "dir", None)
        if directory is not None:
            doc["dir"] = str(directory)
        return doc
    # Everything but the location is the same for every child of a map: made once.
    key = (cls, type(result.serializer), getattr(result, "dir", None))
    template = _TEMPLATES.get(key)
    if template is None:
        template = result.to_dict()
        if key[2] is not None:
            template["dir"] = str(key[2])
        if len(_TEMPLATES) > 256:
            _TEMPLATES.clear()
        _TEMPLATES[key] = template
    doc = template.copy()
    doc["location"] = result.location
    return doc


_TEMPLATES: dict[tuple[Any, ...], dict[str, Any]] = {}


def error_json(error: ErrorInfo, secrets: Sequence[str] = ()) -> dict[str, str]:
    """``error`` as the server keeps it (``serialized["error"]``), ``secrets`` and every
    secret the process knows masked."""
    return error.map_text(lambda text: redact(text, secrets)).to_dict()


def state_parts(
    state: State, secrets: Sequence[str] = ()
) -> tuple[str, str | None, dict[str, Any] | None]:
    """``state``'s kind name, message (at most 4000 characters) and ``serialized`` form
    (None unless it says more than the name: where the value was persisted, a map's size,
    the error that failed it). The message (an exception's text may quote a secret) and
    the error are masked: ``secrets`` and every secret the process knows, before the
    message is cut, so no part of a secret is left at its end."""
    serialized: dict[str, Any] = {}
    message = state.message
    error: ErrorInfo | None = getattr(state, "error", None)
    if error is not None:
        serialized["error"] = error_json(error, secrets)
    if state.persisted is not None:
        result = _result_to_json(state)
        if result is not None:
            serialized["result"] = result
    if isinstance(state, Mapped):
        serialized["n_map_states"] = len(state.map_states)
    if isinstance(state, Looped):
        serialized["loop_count"] = state.loop_count
    if message is not None:
        # A failed state's message quotes its exception: the run's own ``secrets`` too
        # (other messages skip merging them into the cached list: the per-child hot path).
        message = redact(str(message), secrets if error is not None else ())[:4000]
    return type(state).__name__, message, serialized or None


def state_to_json(state: State, secrets: Sequence[str] = ()) -> dict[str, Any]:
    """The body of a ``StateIn`` for ``state`` (no value, only where it was persisted)."""
    name, message, serialized = state_parts(state, secrets)
    return {
        "name": name,
        "message": message,
        "serialized": serialized,
        "timestamp": datetime.fromtimestamp(state.timestamp, UTC).isoformat(),
    }


def result_from_json(doc: dict[str, Any]) -> Any:
    """The ``Result`` a serialized state names, ready to read; None if it cannot be rebuilt."""
    try:
        cls = import_object(doc["type"])
        serializer = import_object(doc["serializer"])() if doc.get("serializer") else None
        if "dir" in doc:
            return cls(dir=doc["dir"], location=doc["location"], serializer=serializer)
        return cls(location=doc["location"], serializer=serializer)
    except Exception:
        return None


def state_from_json(name: str, message: str | None, serialized: dict[str, Any] | None) -> State:
    """A state rebuilt from a server row. A successful state whose value cannot be found
    again becomes ``Pending`` so its task runs again rather than feeding ``None`` downstream."""
    cls = state_class(name)
    if issubclass(cls, Failed):
        return cls(message, error=ErrorInfo.from_dict((serialized or {}).get("error")))
    if issubclass(cls, Looped):
        return _looped_from_json(message, serialized or {})
    if issubclass(cls, Skipped):
        return Skipped(message)
    if not issubclass(cls, Success) or cls is Mapped:
        return Pending(message) if issubclass(cls, Success) else cls(message)
    doc = (serialized or {}).get("result")
    result = result_from_json(doc) if doc else None
    if result is None:
        return Pending("its result was not persisted; running it again")
    return Success(message, NOT_LOADED, persisted=result)


def _looped_from_json(message: str | None, serialized: dict[str, Any]) -> State:
    """A ``Looped`` state to resume from: only when its iteration's result was persisted
    (the next iteration reads it), else ``Pending`` so the loop starts over."""
    doc = serialized.get("result")
    result = result_from_json(doc) if doc else None
    if result is None:
        return Pending("its loop result was not persisted; running it again")
    loop_count = int(serialized.get("loop_count", 1))
    return Looped(message, NOT_LOADED, loop_count=loop_count, persisted=result)
