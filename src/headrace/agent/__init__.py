"""Agents: poll the server for flow runs whose labels they have and start them.

``LocalAgent`` (a subprocess per run), ``DockerAgent`` (a container per run) and
``KubernetesAgent`` (a Job per run) share the loop of :class:`Agent`.
"""

from headrace.agent.base import Agent, RunHandle
from headrace.agent.docker import DockerAgent
from headrace.agent.errors import AgentError, DeploymentFailedError, StorageRefusedError
from headrace.agent.kubernetes import KubernetesAgent, job_manifest
from headrace.agent.local import LocalAgent

__all__ = [
    "Agent",
    "AgentError",
    "DeploymentFailedError",
    "DockerAgent",
    "KubernetesAgent",
    "LocalAgent",
    "RunHandle",
    "StorageRefusedError",
    "job_manifest",
]
