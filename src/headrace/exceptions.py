"""The root of headrace's exception hierarchy.

Every error headrace raises on purpose derives from :class:`HeadraceError`, so callers can
catch "anything headrace said no to" in one clause. Each layer keeps its own errors in an
``errors`` module of its own (``headrace.core.errors``, ``headrace.engine.errors``, ...);
the classes here are the few shared by every layer.
"""

from __future__ import annotations

__all__ = ["ConfigError", "HeadraceError", "MissingExtraError"]


class HeadraceError(Exception):
    """Base class of every error headrace raises deliberately."""


class ConfigError(HeadraceError, ValueError):
    """A configuration file or ``HEADRACE__...`` override is malformed."""


class MissingExtraError(HeadraceError, ImportError):
    """A feature needs an optional dependency that is not installed; says which extra
    installs it (``pip install 'headrace[docker]'``)."""

    def __init__(self, what: str, module: str, extra: str) -> None:
        super().__init__(
            f"{what} needs the {module!r} package, which is not installed; "
            f"install it with: pip install 'headrace[{extra}]'"
        )
        self.what = what
        self.module = module
        self.extra = extra
