"""Errors of the deployment layer: serialization, storage, environments, run configs and the
build-time health checks.

Each keeps the builtin base class callers already catch (``ValueError``, ``TypeError``,
``ImportError``, ``LookupError``, ``RuntimeError``) and its message names the culprit.
"""

from __future__ import annotations

from typing import Any

from headrace.exceptions import HeadraceError

__all__ = [
    "BuildError",
    "DeploymentError",
    "FlowLoadError",
    "FlowNameClashError",
    "FlowNotFoundError",
    "HealthCheckError",
    "HealthCheckWarning",
    "SerializationError",
    "StorageError",
    "UnknownTypeError",
    "UnsupportedVersionError",
]


class DeploymentError(HeadraceError):
    """Base of the deployment layer's errors."""


class SerializationError(DeploymentError, ValueError):
    """A document cannot be produced or read back; the message names the field at fault."""


class UnknownTypeError(SerializationError):
    """A document names a type that is not registered and cannot be imported, or that is
    not the kind expected (a run config where a storage belongs...)."""


class UnsupportedVersionError(SerializationError):
    """A document was written in a format version this headrace does not read."""


class StorageError(DeploymentError):
    """Base of the errors a storage raises."""


class FlowNameClashError(StorageError, ValueError):
    """A storage already holds a flow of that name."""


class FlowNotFoundError(StorageError, LookupError):
    """A storage holds no flow at that location or with that name."""

    def __str__(self) -> str:  # LookupError's KeyError-like quoting is not wanted here
        return str(self.args[0]) if self.args else ""


class FlowLoadError(StorageError, ImportError):
    """A stored flow cannot be loaded; ``missing_module`` names the module it needs, if that
    is the reason."""

    def __init__(self, message: str, missing_module: str | None = None) -> None:
        super().__init__(message, name=missing_module)
        self.missing_module = missing_module


class BuildError(StorageError, RuntimeError):
    """A storage failed to build (an image build or push failed, an upload failed)."""


class HealthCheckError(DeploymentError, RuntimeError):
    """A build-time health check failed. ``check`` names the check, ``culprit`` what failed
    it (a module, a parameter, a flow), ``report`` holds every check's outcome."""

    def __init__(
        self,
        message: str,
        check: str,
        culprit: str | None = None,
        report: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.check = check
        self.culprit = culprit
        self.report = list(report or [])


class HealthCheckWarning(UserWarning):
    """A health check found something likely to go wrong at run time (not fatal)."""
