"""Errors of agents."""

from __future__ import annotations

from headrace.exceptions import HeadraceError

__all__ = ["AgentError", "DeploymentFailedError", "InvalidJobTemplateError"]


class AgentError(HeadraceError):
    """Base class of agent errors."""


class DeploymentFailedError(AgentError, RuntimeError):
    """An agent could not start the process/container/job of a flow run (names the run)."""


class InvalidJobTemplateError(DeploymentFailedError, ValueError):
    """A KubernetesRun job template a Job cannot have (names the fields)."""
