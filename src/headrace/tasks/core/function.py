"""``FunctionTask``: a task whose work is a plain function (what ``@task`` makes)."""

from headrace.core.task import FunctionTask

__all__ = ["FunctionTask"]
