"""``FileSystem``: flows pickled to any fsspec URL (local, ``s3://``, ``gs://``, ...)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from headrace._serializable.errors import BuildError, FlowLoadError
from headrace.exceptions import MissingExtraError
from headrace.storage.base import Storage
from headrace.storage.credentials import public_options
from headrace.storage.flowfile import dumps_flow, flow_file_name, loads_flow

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["FileSystem"]


class FileSystem(Storage):
    """Flows pickled under the fsspec URL ``url`` (a directory-like prefix: each flow is
    ``<url>/<flow-name>.flow``), uploaded at :meth:`build`.

    ``storage_options`` go to fsspec (for example ``{"client_kwargs": {"endpoint_url":
    ...}}`` for an S3-compatible server). Credentials among them are used here but left out
    of the JSON form: where the flow runs they come from that machine's environment.
    """

    serialized_fields = ("url", "storage_options")

    def __init__(
        self,
        url: str,
        storage_options: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
        secrets: Iterable[str] | None = None,
    ) -> None:
        super().__init__(labels=labels, secrets=secrets)
        if not isinstance(url, str) or not url:
            raise ValueError(f"FileSystem storage needs a URL, not {url!r}")
        self.url = url.rstrip("/")
        self._storage_options = dict(storage_options or {})

    @property
    def storage_options(self) -> dict[str, Any]:
        """The fsspec options that are safe to record (credentials left out)."""
        return public_options(self._storage_options)

    @storage_options.setter
    def storage_options(self, value: Mapping[str, Any] | None) -> None:
        self._storage_options = dict(value or {})

    def _open(self, location: str, mode: str) -> Any:
        import fsspec

        try:
            return fsspec.open(location, mode, **self._storage_options)
        except ImportError as exc:  # fsspec names the package its protocol needs
            if location.startswith(("s3://", "s3a://")):
                raise MissingExtraError(f"FileSystem storage at {location}", "s3fs", "s3") from exc
            raise

    def store_flow(self, flow: Flow) -> str:
        location = f"{self.url}/{flow_file_name(flow.name)}"
        taken = set(self.flows.values())
        n = 1
        while location in taken:
            n += 1
            location = f"{self.url}/{flow_file_name(f'{flow.name}-{n}')}"
        return location

    def build_storage(self) -> None:
        """Upload every flow added here."""
        for name, flow in self._flows.items():
            location = self.flows[name]
            try:
                with self._open(location, "wb") as fh:
                    fh.write(dumps_flow(flow))
            except Exception as exc:
                raise BuildError(
                    f"{self.describe(location)}: uploading flow {name!r} failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        where = self.describe(location)
        try:
            with self._open(location, "rb") as fh:
                data = fh.read()
        except FileNotFoundError as exc:
            raise FlowLoadError(f"{where}: no flow file there (was the storage built?)") from exc
        except Exception as exc:
            raise FlowLoadError(
                f"cannot read flow file of {where}: {type(exc).__name__}: {exc}"
            ) from exc
        return loads_flow(data, where)
