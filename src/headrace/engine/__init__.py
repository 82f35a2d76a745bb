"""The engine: states, signals, triggers, runners, results and caching."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headrace.configuration import config
from headrace.utilities.imports import import_object

if TYPE_CHECKING:
    from headrace.engine.flow_runner import FlowRunner as FlowRunner
    from headrace.engine.task_runner import TaskRunner as TaskRunner

__all__ = [
    "FlowRunner",
    "TaskRunner",
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


# Prefect's ``from prefect.engine import FlowRunner, TaskRunner``, loaded on first use (the
# runners import the model; importing the engine package alone stays light).
_LAZY = {
    "FlowRunner": "headrace.engine.flow_runner",
    "TaskRunner": "headrace.engine.task_runner",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'headrace.engine' has no attribute {name!r}")
