"""Versioned JSON forms of flows and of their storage, environment and run config."""

from headrace.serialization.errors import (
    DeploymentError,
    SerializationError,
    UnknownTypeError,
    UnsupportedVersionError,
)
from headrace.serialization.flow import (
    FLOW_DOCUMENT_VERSION,
    FlowDocument,
    flow_hash,
    load_environment,
    load_flow_document,
    load_run_config,
    load_storage,
    serialize_flow,
)
from headrace.serialization.schema import Serializable, registered_types, type_name

__all__ = [
    "FLOW_DOCUMENT_VERSION",
    "DeploymentError",
    "FlowDocument",
    "Serializable",
    "SerializationError",
    "UnknownTypeError",
    "UnsupportedVersionError",
    "flow_hash",
    "load_environment",
    "load_flow_document",
    "load_run_config",
    "load_storage",
    "registered_types",
    "serialize_flow",
    "type_name",
]
