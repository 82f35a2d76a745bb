"""Resolve ``"package.module:QualName"`` (or dotted ``package.module.Name``) strings."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_object", "qualified_name"]


def qualified_name(obj: Any) -> str:
    """The ``module:QualName`` of a class or function."""
    return f"{obj.__module__}:{obj.__qualname__}"


def import_object(path: str) -> Any:
    """Import the object a ``module:QualName`` or ``module.Name`` string names."""
    if ":" in path:
        module_name, _, attr_path = path.partition(":")
    else:
        module_name, _, attr_path = path.rpartition(".")
    if not module_name or not attr_path:
        raise ImportError(f"{path!r} does not name an object as 'module:Name' or 'module.Name'")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(f"{path!r}: {module_name!r} has no attribute {attr_path!r}") from None
    return obj
