"""``GCS``: flows as objects in a Google Cloud Storage bucket, through gcsfs."""

from __future__ import annotations

from typing import Any

from headrace.exceptions import MissingExtraError
from headrace.storage.objectstore import ObjectStorage

__all__ = ["GCS"]


class GCS(ObjectStorage):
    """Flows pickled into the GCS bucket ``bucket`` at ``key`` (default: one new object per
    flow, ``<flow-slug>/<timestamp>``), uploaded at :meth:`build`; or, with
    ``stored_as_script=True``, the flow script at ``key`` (uploaded from
    ``local_script_path`` when given). ``project`` is the Google Cloud project to bill;
    credentials come from the machine's Google defaults
    (``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth``, the metadata server), never from
    the JSON form. Needs ``gcsfs`` (``pip install 'headrace[gcs]'``).
    """

    serialized_fields = ("bucket", "key", "project", "local_script_path")
    protocol = "gs"

    def __init__(
        self,
        bucket: str,
        key: str | None = None,
        project: str | None = None,
        stored_as_script: bool = False,
        local_script_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            bucket,
            key=key,
            stored_as_script=stored_as_script,
            local_script_path=local_script_path,
            **kwargs,
        )
        self.project = project

    def filesystem(self) -> Any:
        try:
            import gcsfs
        except ImportError as exc:
            raise MissingExtraError("GCS storage", "gcsfs", "gcs") from exc
        options: dict[str, Any] = {"skip_instance_cache": True}
        if self.project is not None:
            options["project"] = self.project
        return gcsfs.GCSFileSystem(**options)
