"""Agents: poll the server for flow runs whose labels they have and start them.

``LocalAgent`` (a subprocess per run), ``DockerAgent`` (a container per run) and
``KubernetesAgent`` (a Job per run) share the loop of :class:`Agent`.
"""

from headrace.agent.base import Agent, RunHandle
from headrace.agent.errors import AgentError, DeploymentFailedError
from headrace.agent.local import LocalAgent

__all__ = ["Agent", "AgentError", "DeploymentFailedError", "LocalAgent", "RunHandle"]
