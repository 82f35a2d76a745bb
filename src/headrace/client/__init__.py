"""The Python client of headrace's HTTP API: ``Client(api_url=None, api_key=None)``."""

from __future__ import annotations

from headrace.client.client import Client
from headrace.client.errors import (
    ApiError,
    ClientError,
    ConflictError,
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    SecretNotFoundError,
    ServerUnavailableError,
    UnauthorizedError,
    UnfinishedTaskRunsError,
    ValidationError,
    VersionConflictError,
)
from headrace.client.secrets import Secret

__all__ = [
    "ApiError",
    "Client",
    "ClientError",
    "ConflictError",
    "ForbiddenError",
    "InvalidTransitionError",
    "NotFoundError",
    "Secret",
    "SecretNotFoundError",
    "ServerUnavailableError",
    "UnauthorizedError",
    "UnfinishedTaskRunsError",
    "ValidationError",
    "VersionConflictError",
]
