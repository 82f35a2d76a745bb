"""Turn result values into bytes and back."""

from __future__ import annotations

import importlib
import json
import pickle
from datetime import datetime
from typing import Any

import cloudpickle

from headrace.engine.errors import ResultError

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
]


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


class DateTimeSerializer(Serializer):
    """A ``datetime`` as its ISO 8601 text (time zone kept), as Prefect's does for
    ``DateTimeParameter`` values."""

    extension = "txt"

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, datetime):
            raise ResultError(
                f"DateTimeSerializer takes a datetime, not a value of type {type(value).__name__}"
            )
        return value.isoformat().encode()

    def deserialize(self, blob: bytes) -> Any:
        return datetime.fromisoformat(blob.decode())


#: The standard library's compression modules ``CompressedSerializer`` accepts by name.
COMPRESSIONS = ("bz2", "gzip", "lzma", "zlib")


class CompressedSerializer(Serializer):
    """Another serializer's bytes, compressed: ``format`` is one of :data:`COMPRESSIONS`
    (or give ``compress``/``decompress`` functions); ``compress_kwargs`` and
    ``decompress_kwargs`` go to them."""

    def __init__(
        self,
        serializer: Serializer,
        format: str | None = None,
        compress: Any = None,
        decompress: Any = None,
        compress_kwargs: dict[str, Any] | None = None,
        decompress_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if format is not None:
            if compress is not None or decompress is not None:
                raise ValueError(
                    "CompressedSerializer: give format or compress/decompress, not both"
                )
            if format not in COMPRESSIONS:
                raise ValueError(
                    f"CompressedSerializer: unknown format {format!r}; one of {list(COMPRESSIONS)}"
                )
            module = importlib.import_module(format)
            compress, decompress = module.compress, module.decompress
        elif compress is None or decompress is None:
            raise ValueError("CompressedSerializer: give format, or both compress and decompress")
        self.serializer = serializer
        self.format = format
        self._compress = compress
        self._decompress = decompress
        self.compress_kwargs = dict(compress_kwargs or {})
        self.decompress_kwargs = dict(decompress_kwargs or {})
        self.extension = f"{serializer.extension}.{format or 'compressed'}"

    def serialize(self, value: Any) -> bytes:
        return bytes(self._compress(self.serializer.serialize(value), **self.compress_kwargs))

    def deserialize(self, blob: bytes) -> Any:
        return self.serializer.deserialize(self._decompress(blob, **self.decompress_kwargs))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CompressedSerializer)
            and other.serializer == self.serializer
            and (other.format, other._compress) == (self.format, self._compress)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.serializer, self.format))
