"""headrace: workflow orchestration for Python.

Write tasks, wire them into a flow, ``flow.run()`` it in-process, or register it with a
headrace server that schedules runs and hands them to agents.
"""

from headrace.configuration import config
from headrace.core import Flow, Parameter, Task, flatten, task, unmapped
from headrace.core.apply_map import apply_map
from headrace.core.tagging import tags
from headrace.runcontext import context
from headrace.tasks.control_flow import case
from headrace.tasks.core.resource_manager import resource_manager

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
    "resource_manager",
    "tags",
    "task",
    "unmapped",
]
