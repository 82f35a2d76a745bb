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
    ServerUnavailableError,
    UnauthorizedError,
    UnfinishedTaskRunsError,
    ValidationError,
    VersionConflictError,
)

__all__ = [
    "ApiError",
    "Client",
    "ClientError",
    "ConflictError",
    "ForbiddenError",
    "InvalidTransitionError",
    "NotFoundError",
    "ServerUnavailableError",
    "UnauthorizedError",
    "UnfinishedTaskRunsError",
    "ValidationError",
    "VersionConflictError",
]
