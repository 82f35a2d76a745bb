"""Turn result values into bytes and back."""

from __future__ import annotations

import importlib
import io
import json
import pickle
from datetime import datetime
from typing import Any

import cloudpickle

from headrace.engine.errors import ResultError
from headrace.exceptions import MissingExtraError

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PandasSerializer",
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


#: pandas formats written as text (the rest are binary).
_PANDAS_TEXT = frozenset({"csv", "json", "html", "xml", "latex", "markdown"})


class PandasSerializer(Serializer):
    """A pandas ``DataFrame`` in a file format pandas reads and writes (``"csv"``,
    ``"json"``, ``"parquet"``, ``"feather"``, ``"pickle"``...): ``DataFrame.to_<file_type>``
    with ``serialize_kwargs`` and ``pandas.read_<file_type>`` with ``deserialize_kwargs``.
    Needs pandas (``pip install 'headrace[pandas]'``), and for some formats their engine
    (pyarrow for parquet and feather)."""

    def __init__(
        self,
        file_type: str,
        deserialize_kwargs: dict[str, Any] | None = None,
        serialize_kwargs: dict[str, Any] | None = None,
    ) -> None:
        pandas = _pandas()
        if not isinstance(file_type, str) or not hasattr(pandas, f"read_{file_type}"):
            raise ValueError(
                f"PandasSerializer: pandas has no read_{file_type} (file_type={file_type!r}); "
                "use a format pandas reads and writes, such as 'csv', 'json' or 'parquet'"
            )
        self.file_type = file_type
        self.deserialize_kwargs = dict(deserialize_kwargs or {})
        self.serialize_kwargs = dict(serialize_kwargs or {})
        self.extension = file_type

    def serialize(self, value: Any) -> bytes:
        write = getattr(value, f"to_{self.file_type}", None)
        if write is None:
            raise ResultError(
                f"PandasSerializer({self.file_type!r}) takes a DataFrame, not a value of type "
                f"{type(value).__name__}"
            )
        try:
            if self.file_type in _PANDAS_TEXT:
                text = io.StringIO()
                write(text, **self.serialize_kwargs)
                return text.getvalue().encode()
            buffer = io.BytesIO()
            write(buffer, **self.serialize_kwargs)
            return buffer.getvalue()
        except ImportError as exc:
            raise ResultError(f"PandasSerializer({self.file_type!r}): {exc}") from exc

    def deserialize(self, blob: bytes) -> Any:
        read = getattr(_pandas(), f"read_{self.file_type}")
        source: Any = (
            io.StringIO(blob.decode()) if self.file_type in _PANDAS_TEXT else io.BytesIO(blob)
        )
        try:
            return read(source, **self.deserialize_kwargs)
        except ImportError as exc:
            raise ResultError(f"PandasSerializer({self.file_type!r}): {exc}") from exc

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PandasSerializer)
            and other.file_type == self.file_type
            and other.serialize_kwargs == self.serialize_kwargs
            and other.deserialize_kwargs == self.deserialize_kwargs
        )

    def __hash__(self) -> int:
        return hash((type(self), self.file_type))


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:
        raise MissingExtraError("PandasSerializer", "pandas", "pandas") from exc
