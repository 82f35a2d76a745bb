"""Environments: see :mod:`headrace.environments.execution`."""

from headrace.environments.execution import DaskEnvironment, Environment, LocalEnvironment

__all__ = ["DaskEnvironment", "Environment", "LocalEnvironment"]
