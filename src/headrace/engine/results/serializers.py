"""Turn result values into bytes and back."""

from __future__ import annotations

import json
import pickle
from typing import Any

import cloudpickle

from headrace.engine.errors import ResultError

__all__ = ["JSONSerializer", "PickleSerializer", "Serializer"]


class Serializer:
    """Base class: ``serialize(value) -> bytes`` and ``deserialize(bytes) -> value``."""

    extension = "bin"

    def serialize(self, value: Any) -> bytes:
        raise NotImplementedError

    def deserialize(self, blob: bytes) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


# Values the standard pickler writes exactly as cloudpickle would (nothing pickled by
# reference): they skip cloudpickle's Python-level pickler, ~10x the cost for a small value.
_PLAIN = frozenset({int, float, complex, str, bytes, bool, type(None)})


class PickleSerializer(Serializer):
    """cloudpickle: any picklable value, including lambdas and local classes."""

    extension = "pickle"

    def serialize(self, value: Any) -> bytes:
        if type(value) in _PLAIN:
            return pickle.dumps(value, cloudpickle.DEFAULT_PROTOCOL)
        try:
            data: bytes = cloudpickle.dumps(value)
            return data
        except Exception as exc:
            raise ResultError(
                f"a value of type {type(value).__name__} cannot be pickled: {exc}"
            ) from exc

    def deserialize(self, blob: bytes) -> Any:
        return cloudpickle.loads(blob)


class JSONSerializer(Serializer):
    """JSON: portable and readable, for JSON-compatible values only."""

    extension = "json"

    def serialize(self, value: Any) -> bytes:
        try:
            return json.dumps(value).encode()
        except (TypeError, ValueError) as exc:
            raise ResultError(
                f"a value of type {type(value).__name__} is not JSON-serializable: {exc}"
            ) from exc

    def deserialize(self, blob: bytes) -> Any:
        return json.loads(blob)
