"""The model: tasks, parameters, edges and flows, and the APIs that build the graph."""

from headrace.core.edge import Edge, flatten, mapped, unmapped
from headrace.core.flow import Flow
from headrace.core.parameter import DateTimeParameter, Parameter
from headrace.core.task import FunctionTask, Task, task

__all__ = [
    "DateTimeParameter",
    "Edge",
    "Flow",
    "FunctionTask",
    "Parameter",
    "Task",
    "flatten",
    "mapped",
    "task",
    "unmapped",
]
