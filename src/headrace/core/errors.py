"""Errors raised while building or validating a flow's graph."""

from __future__ import annotations

from collections.abc import Sequence

from headrace.exceptions import HeadraceError

__all__ = [
    "CoreError",
    "CycleError",
    "DuplicateTaskError",
    "EdgeError",
    "FlowValidationError",
    "NoActiveFlowError",
    "ParameterValueError",
]


class CoreError(HeadraceError):
    """Base of the model layer's errors."""


class FlowValidationError(CoreError, ValueError):
    """The flow's graph is invalid; the message names the task or edge at fault."""


class CycleError(FlowValidationError):
    """Adding an edge would close a cycle; ``.cycle`` lists the tasks on it, in order."""

    def __init__(self, message: str, cycle: Sequence[object]) -> None:
        super().__init__(message)
        self.cycle = list(cycle)


class EdgeError(FlowValidationError):
    """An edge is keyed to an argument the task does not take, or twice to one argument."""


class DuplicateTaskError(FlowValidationError):
    """Two parameters share a name, or two tasks share an explicit slug."""


class NoActiveFlowError(CoreError, ValueError):
    """A task was called outside ``with Flow(...)`` and no ``flow=`` was given."""


class ParameterValueError(CoreError, ValueError):
    """A parameter's value cannot be read as its kind says (``DateTimeParameter``)."""
