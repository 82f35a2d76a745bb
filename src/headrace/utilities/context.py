"""Prefect 1's ``prefect.utilities.context``: the ``Context`` class of the run context
(the object itself is :data:`headrace.context`)."""

from headrace.runcontext import Context

__all__ = ["Context"]
