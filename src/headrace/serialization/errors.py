"""Public path of the deployment layer's errors: ``headrace.serialization.errors``.

The classes live in :mod:`headrace._serializable.errors`, below storage, environments and run
configs, which raise them; this module names the same classes.
"""

from headrace._serializable.errors import (
    BuildError,
    DeploymentError,
    FlowLoadError,
    FlowNameClashError,
    FlowNotFoundError,
    HealthCheckError,
    HealthCheckWarning,
    SerializationError,
    StorageError,
    UnknownTypeError,
    UnsupportedVersionError,
)

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
