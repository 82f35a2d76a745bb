"""The engine: states, signals, triggers, runners, results and caching."""

from __future__ import annotations

from typing import Any

from headrace.configuration import config
from headrace.utilities.imports import import_object

__all__ = [
    "get_default_executor_class",
    "get_default_flow_runner_class",
    "get_default_task_runner_class",
]


def get_default_executor_class() -> Any:
    """The executor class named by ``engine.executor.default_class`` in config."""
    return import_object(config.engine.executor.default_class)


def get_default_flow_runner_class() -> Any:
    """The flow runner class named by ``engine.flow_runner.default_class`` in config."""
    return import_object(config.engine.flow_runner.default_class)


def get_default_task_runner_class() -> Any:
    """The task runner class named by ``engine.task_runner.default_class`` in config."""
    return import_object(config.engine.task_runner.default_class)
