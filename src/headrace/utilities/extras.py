"""Importing an optional dependency with an error that says which extra installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from headrace.exceptions import MissingExtraError

__all__ = ["require_extra"]


def require_extra(module: str, extra: str, what: str) -> ModuleType:
    """``import module``; when it is missing, :class:`MissingExtraError` naming ``what``
    needs it and ``pip install 'headrace[extra]'``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the package is there but one of its own imports is broken
        raise MissingExtraError(what, top, extra) from exc
