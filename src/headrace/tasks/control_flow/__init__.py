"""Control flow for flows: ``case`` blocks, ``switch``, ``ifelse``, ``merge`` and
``FilterTask``."""

from headrace.tasks.control_flow.case import case
from headrace.tasks.control_flow.conditional import CompareValue, Merge, ifelse, merge, switch
from headrace.tasks.control_flow.filter import FilterTask

__all__ = ["CompareValue", "FilterTask", "Merge", "case", "ifelse", "merge", "switch"]
