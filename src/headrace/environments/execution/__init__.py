"""Execution environments: how a flow runs once its run reached its infrastructure."""

from headrace.environments.execution.base import Environment
from headrace.environments.execution.dask import DaskEnvironment
from headrace.environments.execution.local import LocalEnvironment

__all__ = ["DaskEnvironment", "Environment", "LocalEnvironment"]
