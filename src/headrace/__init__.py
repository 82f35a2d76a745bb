"""headrace: workflow orchestration for Python.

Write tasks, wire them into a flow, ``flow.run()`` it in-process, or register it with a
headrace server that schedules runs and hands them to agents.
"""

from typing import TYPE_CHECKING, Any

from headrace.configuration import config
from headrace.core import Flow, Parameter, Task, flatten, mapped, task, unmapped
from headrace.core.apply_map import apply_map
from headrace.core.tagging import tags
from headrace.runcontext import context

if TYPE_CHECKING:
    from headrace.tasks.control_flow.case import case as case
    from headrace.tasks.core.resource_manager import resource_manager

# The task library's names load on first use, so ``import headrace`` stays light.
_LAZY = {
    "case": "headrace.tasks.control_flow.case",
    "resource_manager": "headrace.tasks.core.resource_manager",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'headrace' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
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
