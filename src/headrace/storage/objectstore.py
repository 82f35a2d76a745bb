"""Flows kept as objects in a bucket of an object store (S3, Google Cloud Storage, Azure
Blob Storage), reached through fsspec.

Each flow is one object under a *key*: the storage's ``key`` when given, else
``<flow-slug>/<UTC timestamp>`` picked when the flow is added (Prefect 1's default), so
every registration uploads a new object and older flow versions keep loading. The object
is the pickled flow, or, with ``stored_as_script=True``, the Python script that defines
it: uploaded from ``local_script_path`` at build when one is given, else expected to be
there already. The key of each flow is its location (``storage.flows``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from headrace._serializable.errors import BuildError, FlowLoadError, StorageError
from headrace.storage.base import Storage
from headrace.storage.flowfile import dumps_flow, load_flow_source, loads_flow

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["ObjectStorage", "default_key"]


def default_key(flow_name: str, now: datetime | None = None) -> str:
    """``<flow-slug>/<timestamp-slug>``: where a flow goes when no key is given."""
    slug = re.sub(r"[^a-z0-9]+", "-", flow_name.lower()).strip("-") or "flow"
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dt%H-%M-%S-%f")
    return f"{slug}/{stamp}"


class ObjectStorage(Storage):
    """Base of the object-store storages: ``bucket`` (a bucket or container) and ``key``
    (one object; ``None`` picks one per flow). Subclasses say how to reach the store
    (:meth:`filesystem`) and what their settings are called."""

    serialized_fields: ClassVar[tuple[str, ...]] = ("stored_as_script",)

    #: fsspec protocol of the store, for messages (``s3``, ``gs``, ``az``).
    protocol: ClassVar[str] = ""
    #: What the store calls a bucket and a key, for messages.
    bucket_word: ClassVar[str] = "bucket"
    key_word: ClassVar[str] = "key"

    def __init__(
        self,
        bucket: str,
        key: str | None = None,
        stored_as_script: bool = False,
        local_script_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        owner = type(self).__name__
        if not isinstance(bucket, str) or not bucket or "/" in bucket:
            raise ValueError(f"{owner} storage needs a {self.bucket_word} name, not {bucket!r}")
        if key is not None and (not isinstance(key, str) or not key.strip("/")):
            raise ValueError(f"{owner} storage: {self.key_word} must be a non-empty string")
        self.bucket = bucket
        self.key = key.strip("/") if key is not None else None
        self.stored_as_script = bool(stored_as_script)
        self.local_script_path = local_script_path

    # ---- reaching the store ---------------------------------------------------------------

    def filesystem(self) -> Any:
        """An fsspec filesystem for the store (raises ``MissingExtraError`` when the
        package is not installed)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement filesystem")

    def put_options(self) -> Mapping[str, Any]:
        """Keyword arguments for each upload (none by default)."""
        return {}

    def url(self, key: str) -> str:
        return f"{self.protocol}://{self.bucket}/{key}"

    def describe(self, location: str | None = None) -> str:
        where = f" at {self.url(location)!r}" if location is not None else ""
        return f"{type(self).__name__} storage{where}"

    def _missing(self, fs: Any, key: str, doing: str) -> str:
        """Why an object operation found nothing: a missing bucket, or a missing object."""
        try:
            bucket_exists = bool(fs.exists(self.bucket))
        except Exception:  # the store cannot say: report the key
            bucket_exists = True
        if not bucket_exists:
            return (
                f"{self.describe(key)}: {doing} failed: the {self.bucket_word} "
                f"{self.bucket!r} does not exist (create it first)"
            )
        return f"{self.describe(key)}: {doing} failed: no object there (was the storage built?)"

    # ---- storing ---------------------------------------------------------------------

    def store_flow(self, flow: Flow) -> str:
        if self.key is not None:
            if self.flows:
                raise StorageError(
                    f"{type(self).__name__} storage with {self.key_word}={self.key!r} holds "
                    f"one flow; it already holds {sorted(self.flows)}"
                )
            return self.key
        if self.stored_as_script:
            raise ValueError(
                f"{type(self).__name__}(stored_as_script=True) needs {self.key_word}= naming "
                "the object that holds the flow script"
            )
        location = default_key(flow.name)
        taken = set(self.flows.values())
        n = 1
        while location in taken:
            n += 1
            location = default_key(f"{flow.name}-{n}")
        return location

    def build_storage(self) -> None:
        """Upload every flow added here (or the flow script from ``local_script_path``)."""
        if self.stored_as_script:
            if self.local_script_path is None or self.key is None:
                return  # the script is already in the store
            try:
                with open(self.local_script_path, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                raise BuildError(
                    f"{self.describe(self.key)}: cannot read local_script_path "
                    f"{self.local_script_path!r}: {exc}"
                ) from exc
            self.upload(self.key, data, "the flow script")
            return
        for name, flow in self._flows.items():
            self.upload(self.flows[name], dumps_flow(flow), f"flow {name!r}")

    def check_overwrite(self, fs: Any, key: str) -> None:
        """Refuse to replace an existing object (only stores that ask, e.g. Azure)."""

    def upload(self, key: str, data: bytes, what: str) -> None:
        fs = self.filesystem()
        path = f"{self.bucket}/{key}"
        self.check_overwrite(fs, key)
        try:
            fs.pipe_file(path, data, **self.put_options())
        except FileNotFoundError as exc:
            raise BuildError(self._missing(fs, key, f"uploading {what}")) from exc
        except Exception as exc:
            raise BuildError(
                f"{self.describe(key)}: uploading {what} failed: {type(exc).__name__}: {exc}"
            ) from exc

    # ---- loading ---------------------------------------------------------------------

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        where = self.describe(location)
        fs = self.filesystem()
        try:
            data = fs.cat_file(f"{self.bucket}/{location}")
        except FileNotFoundError as exc:
            raise FlowLoadError(self._missing(fs, location, "reading the flow")) from exc
        except Exception as exc:
            raise FlowLoadError(
                f"cannot read the flow of {where}: {type(exc).__name__}: {exc}"
            ) from exc
        if self.stored_as_script:
            return load_flow_source(data, flow_name, where, self.url(location))
        return loads_flow(bytes(data), where)

    def get_flow(self, flow_location: str | None = None) -> Flow:
        if flow_location is None and not self.flows and self.key is not None:
            return self.load_flow(self.key, None)
        return super().get_flow(flow_location)
