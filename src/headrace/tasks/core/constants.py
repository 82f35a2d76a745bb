"""``Constant``: a task that returns a fixed value (Prefect's ``prefect.tasks.core.constants``)."""

from headrace.core.builtins import Constant

__all__ = ["Constant"]
