"""``LocalResult``: results as files in a local directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headrace.engine.errors import ResultError
from headrace.engine.results.base import Result
from headrace.engine.results.serializers import Serializer

__all__ = ["LocalResult"]


class LocalResult(Result):
    """Files under ``dir`` (default ``flows.results_dir`` from config); writes are atomic."""

    def __init__(
        self,
        dir: str | os.PathLike[str] | None = None,
        location: str | Callable[..., str] | None = None,
        serializer: Serializer | None = None,
        value: Any = None,
    ) -> None:
        if dir is None:
            from headrace.configuration import config

            dir = config.flows.results_dir
        self.dir = Path(os.path.expanduser(os.fspath(dir))).absolute()
        super().__init__(value=value, location=location, serializer=serializer)

    def _path(self, location: str) -> Path:
        path = Path(location)
        return path if path.is_absolute() else self.dir / path

    def exists(self, location: str, /, **kwargs: Any) -> bool:
        return self._path(self.render_location(location, kwargs)).exists()

    def read(self, location: str) -> Result:
        path = self._path(location)
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise ResultError(f"cannot read the result at {path}: {exc}") from exc
        new = self.copy()
        new.location = location
        new.value = self.serializer.deserialize(blob)
        return new

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        new = self.format(**kwargs)
        assert isinstance(new.location, str)
        blob = self.serializer.serialize(value)
        path = self._path(new.location)
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            raise ResultError(f"cannot write the result to {path}: {exc}") from exc
        new.value = value
        return new
