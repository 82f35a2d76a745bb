"""headrace: workflow orchestration for Python.

Write tasks, wire them into a flow, ``flow.run()`` it in-process, or register it with a
headrace server that schedules runs and hands them to agents.
"""

from typing import TYPE_CHECKING, Any

from headrace._version import __version__
from headrace.configuration import config
from headrace.core import Flow, Parameter, Task, flatten, mapped, task, unmapped
from headrace.core.apply_map import apply_map
from headrace.core.tagging import tags
from headrace.runcontext import context

if TYPE_CHECKING:
    from headrace.client import Client
    from headrace.tasks.control_flow.case import case as case
    from headrace.tasks.core.resource_manager import resource_manager

# Names that load on first use, so ``import headrace`` stays light: the task library's,
# ``Client`` (``from prefect import Client``), and the subpackages Prefect users reach as
# attributes (``headrace.schedules.IntervalSchedule`` after ``import headrace``).
_LAZY = {
    "Client": "headrace.client",
    "case": "headrace.tasks.control_flow.case",
    "resource_manager": "headrace.tasks.core.resource_manager",
}
_SUBPACKAGES = frozenset(
    {
        "agent",
        "client",
        "engine",
        "environments",
        "executors",
        "run_configs",
        "schedules",
        "serialization",
        "storage",
        "tasks",
        "triggers",
        "utilities",
    }
)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"headrace.{name}")
    else:
        raise AttributeError(f"module 'headrace' has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "Client",
    "Flow",
    "Parameter",
    "Task",
    "__version__",
    "apply_map",
    "case",
    "config",
    "context",
    "flatten",
    "mapped",
    "resource_manager",
    "tags",
    "task",
    "unmapped",
]
