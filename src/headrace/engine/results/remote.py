"""``FSSpecResult``: results at any fsspec URL (``s3://``, ``gcs://``, ``az://``,
``file://``, ``memory://``...), and ``S3Result``/``GCSResult``/``AzureResult``, which are
only ways of spelling its base URL and credentials.

Locations are templated exactly like ``LocalResult``'s (``"{flow_name}/{task_slug}.pickle"``
or a callable) and are relative to ``dir`` unless they are URLs themselves. Only the base URL,
the location and the serializer travel to the server (type ``FSSpecResult`` for all four);
``storage_options`` (credentials, endpoints) never do: a restarted run reads with the result
its flow configures, or with the environment's defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headrace.engine.errors import ResultError
from headrace.engine.results.base import Result
from headrace.engine.results.serializers import Serializer

__all__ = ["AzureResult", "FSSpecResult", "GCSResult", "S3Result"]


class FSSpecResult(Result):
    """Results under the URL ``dir`` through fsspec (``storage_options`` go to the
    filesystem, e.g. ``{"client_kwargs": {"endpoint_url": ...}}`` for S3)."""

    def __init__(
        self,
        dir: str,
        location: str | Callable[..., str] | None = None,
        serializer: Serializer | None = None,
        storage_options: dict[str, Any] | None = None,
        value: Any = None,
    ) -> None:
        if not isinstance(dir, str) or "://" not in dir:
            raise ResultError(
                f"{type(self).__name__} needs dir= as a URL such as 's3://bucket/prefix', "
                f"not {dir!r}"
            )
        self.dir = dir.rstrip("/")
        self.storage_options = dict(storage_options or {})
        super().__init__(value=value, location=location, serializer=serializer)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} dir={self.dir!r} location={self.location!r}>"

    def url(self, location: str) -> str:
        """The full URL of ``location``."""
        return location if "://" in location else f"{self.dir}/{location.lstrip('/')}"

    def _fs(self, url: str) -> Any:
        import fsspec

        try:
            fs, path = fsspec.core.url_to_fs(url, **self.storage_options)
        except (ImportError, ValueError) as exc:
            raise ResultError(f"no filesystem for {url!r}: {exc}") from exc
        return fs, path

    def exists(self, location: str, /, **kwargs: Any) -> bool:
        url = self.url(self.render_location(location, kwargs))
        fs, path = self._fs(url)
        try:
            return bool(fs.exists(path))
        except Exception as exc:
            raise ResultError(f"cannot check the result at {url}: {exc}") from exc

    def read(self, location: str) -> Result:
        url = self.url(location)
        fs, path = self._fs(url)
        try:
            blob = fs.cat_file(path)
        except Exception as exc:
            raise ResultError(f"cannot read the result at {url}: {exc}") from exc
        new = self.copy()
        new.location = location
        new.value = self.serializer.deserialize(blob)
        return new

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        new = self.format(**kwargs)
        assert isinstance(new.location, str)
        blob = self.serializer.serialize(value)
        url = self.url(new.location)
        fs, path = self._fs(url)
        try:
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            if parent and fs.protocol in ("file", "local", ("file", "local")):
                fs.makedirs(parent, exist_ok=True)
            fs.pipe_file(path, blob)
        except Exception as exc:
            raise ResultError(f"cannot write the result to {url}: {exc}") from exc
        new.value = value
        return new

    def to_dict(self) -> dict[str, Any]:
        """Type ``FSSpecResult`` whatever the spelling, the base URL, never the options."""
        from headrace.utilities.imports import qualified_name

        return {
            "type": qualified_name(FSSpecResult),
            "location": self.location if isinstance(self.location, str) else None,
            "serializer": qualified_name(type(self.serializer)),
            "dir": self.dir,
        }


def _base(scheme: str, bucket: str, what: str, owner: str) -> str:
    if not isinstance(bucket, str) or not bucket.strip("/"):
        raise ResultError(f"{owner} needs a {what} name, not {bucket!r}")
    return f"{scheme}://{bucket.strip('/')}"


class S3Result(FSSpecResult):
    """Results in S3 bucket ``bucket`` (``boto3_kwargs`` as Prefect's: ``endpoint_url``,
    ``aws_access_key_id``..., passed to the S3 client)."""

    def __init__(
        self,
        bucket: str,
        location: str | Callable[..., str] | None = None,
        serializer: Serializer | None = None,
        boto3_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        options = dict(kwargs.pop("storage_options", None) or {})
        client = dict(boto3_kwargs or {})
        if client:
            options.setdefault("client_kwargs", {}).update(client)
        self.bucket = bucket
        super().__init__(
            _base("s3", bucket, "bucket", "S3Result"), location, serializer, options, **kwargs
        )


class GCSResult(FSSpecResult):
    """Results in Google Cloud Storage bucket ``bucket`` (needs ``gcsfs``)."""

    def __init__(
        self,
        bucket: str,
        location: str | Callable[..., str] | None = None,
        serializer: Serializer | None = None,
        **kwargs: Any,
    ) -> None:
        self.bucket = bucket
        super().__init__(
            _base("gcs", bucket, "bucket", "GCSResult"), location, serializer, **kwargs
        )


class AzureResult(FSSpecResult):
    """Results in Azure Blob Storage container ``container`` (needs ``adlfs``);
    ``connection_string`` defaults to ``AZURE_STORAGE_CONNECTION_STRING`` as in Prefect."""

    def __init__(
        self,
        container: str,
        connection_string: str | None = None,
        location: str | Callable[..., str] | None = None,
        serializer: Serializer | None = None,
        **kwargs: Any,
    ) -> None:
        options = dict(kwargs.pop("storage_options", None) or {})
        if connection_string:
            options["connection_string"] = connection_string
        self.container = container
        super().__init__(
            _base("az", container, "container", "AzureResult"),
            location,
            serializer,
            options,
            **kwargs,
        )
