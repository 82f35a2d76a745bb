"""Run configs: where a flow's runs go (read by agents)."""

from headrace.run_configs.base import RunConfig, UniversalRun
from headrace.run_configs.configs import DockerRun, KubernetesRun, LocalRun

__all__ = ["DockerRun", "KubernetesRun", "LocalRun", "RunConfig", "UniversalRun"]
