"""``S3``: flows as objects in an Amazon S3 (or S3-compatible) bucket, through s3fs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headrace.exceptions import MissingExtraError
from headrace.storage.credentials import public_options
from headrace.storage.objectstore import ObjectStorage

__all__ = ["S3"]


class S3(ObjectStorage):
    """Flows pickled into the S3 bucket ``bucket`` at ``key`` (default: one new object per
    flow, ``<flow-slug>/<timestamp>``), uploaded at :meth:`build`; or, with
    ``stored_as_script=True``, the flow script at ``key`` (uploaded from
    ``local_script_path`` when given).

    ``client_options`` are the S3 client's options (``endpoint_url``, ``region_name``,
    ``aws_access_key_id``...); ``upload_options`` go with each upload (``ACL``,
    ``ServerSideEncryption``, ``Metadata``...). Credentials among the client options are
    used here but never recorded: where the flow loads they come from that machine's
    environment (``AWS_ACCESS_KEY_ID``..., a profile, an instance role).
    """

    serialized_fields = (
        "bucket",
        "key",
        "local_script_path",
        "client_options",
        "upload_options",
    )
    protocol = "s3"

    def __init__(
        self,
        bucket: str,
        key: str | None = None,
        stored_as_script: bool = False,
        local_script_path: str | None = None,
        client_options: Mapping[str, Any] | None = None,
        upload_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            bucket,
            key=key,
            stored_as_script=stored_as_script,
            local_script_path=local_script_path,
            **kwargs,
        )
        self._client_options = dict(client_options or {})
        #: What each upload sends besides the object (``ACL``, ``Metadata``...).
        self.upload_options = dict(upload_options or {})

    def put_options(self) -> Mapping[str, Any]:
        return self.upload_options

    def __getstate__(self) -> dict[str, Any]:
        # A pickled flow carries its storage: credentials stay out of the flow file too.
        state = super().__getstate__()
        state["_client_options"] = public_options(self._client_options)
        return state

    @property
    def client_options(self) -> dict[str, Any]:
        """The S3 client's options that are safe to record (credentials left out)."""
        return public_options(self._client_options)

    def filesystem(self) -> Any:
        try:
            import s3fs
        except ImportError as exc:
            raise MissingExtraError("S3 storage", "s3fs", "s3") from exc
        return s3fs.S3FileSystem(client_kwargs=dict(self._client_options), skip_instance_cache=True)
