"""``Azure``: flows as blobs in an Azure Blob Storage container, through adlfs."""

from __future__ import annotations

import os
from typing import Any

from headrace._serializable.errors import BuildError
from headrace.exceptions import MissingExtraError
from headrace.storage.credentials import MissingSecretError, secret_value
from headrace.storage.objectstore import ObjectStorage

__all__ = ["Azure"]

#: Where the connection string comes from when no secret is named (Prefect's rule).
CONNECTION_STRING_VARIABLE = "AZURE_STORAGE_CONNECTION_STRING"


class Azure(ObjectStorage):
    """Flows pickled into the blob container ``container`` as ``blob_name`` (default: one
    new blob per flow, ``<flow-slug>/<timestamp>``), uploaded at :meth:`build`; or, with
    ``stored_as_script=True``, the flow script already in the blob ``blob_name``.

    The connection string is the secret named ``connection_string_secret``, or, when none
    is named, the ``AZURE_STORAGE_CONNECTION_STRING`` environment variable where the flow
    is built or loaded; only the secret's name is recorded. With ``overwrite=False`` (the
    default) a build never replaces an existing blob: it fails naming it. Needs ``adlfs``
    (``pip install 'headrace[azure]'``).
    """

    serialized_fields = ("container", "blob_name", "connection_string_secret", "overwrite")
    protocol = "az"
    bucket_word = "container"
    key_word = "blob_name"

    def __init__(
        self,
        container: str,
        connection_string_secret: str | None = None,
        blob_name: str | None = None,
        stored_as_script: bool = False,
        overwrite: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(container, key=blob_name, stored_as_script=stored_as_script, **kwargs)
        self.connection_string_secret = connection_string_secret
        self.overwrite = bool(overwrite)

    @property
    def container(self) -> str:
        return self.bucket

    @property
    def blob_name(self) -> str | None:
        return self.key

    def connection_string(self) -> str:
        """The connection string, from the named secret or the environment."""
        if self.connection_string_secret is not None:
            return secret_value(self.connection_string_secret, "Azure storage")
        value = os.environ.get(CONNECTION_STRING_VARIABLE)
        if not value:
            raise MissingSecretError(
                "Azure storage needs a connection string: name a secret with "
                f"connection_string_secret= or set {CONNECTION_STRING_VARIABLE}",
                secret=CONNECTION_STRING_VARIABLE,
            )
        return value

    def filesystem(self) -> Any:
        try:
            import adlfs
        except ImportError as exc:
            raise MissingExtraError("Azure storage", "adlfs", "azure") from exc
        return adlfs.AzureBlobFileSystem(
            connection_string=self.connection_string(), skip_instance_cache=True
        )

    def check_overwrite(self, fs: Any, key: str) -> None:
        if not self.overwrite and fs.exists(f"{self.bucket}/{key}"):
            raise BuildError(
                f"{self.describe(key)}: the blob {key!r} already exists in container "
                f"{self.bucket!r}; pass overwrite=True to replace it"
            )
