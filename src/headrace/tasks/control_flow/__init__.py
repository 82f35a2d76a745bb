"""Control flow for flows: ``case`` blocks, ``switch``, ``ifelse`` and ``merge``."""

from headrace.tasks.control_flow.case import case
from headrace.tasks.control_flow.conditional import CompareValue, Merge, ifelse, merge, switch

__all__ = ["CompareValue", "Merge", "case", "ifelse", "merge", "switch"]
