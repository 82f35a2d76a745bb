"""Errors of agents."""

from __future__ import annotations

from headrace.exceptions import HeadraceError

__all__ = [
    "AgentError",
    "DeploymentFailedError",
    "InvalidJobTemplateError",
    "StorageRefusedError",
]


class AgentError(HeadraceError):
    """Base class of agent errors."""


class DeploymentFailedError(AgentError, RuntimeError):
    """An agent could not start the process/container/job of a flow run (names the run)."""


class InvalidJobTemplateError(DeploymentFailedError, ValueError):
    """A KubernetesRun job template a Job cannot have (names the fields)."""


class StorageRefusedError(DeploymentFailedError, PermissionError):
    """A flow's storage document names something the agent may not load (another host's
    Local storage, a path with ``..``, a file that is no flow file, a path outside
    ``agent.storage_roots``); names the culprit."""

    def __init__(self, message: str, *, field: str, value: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
