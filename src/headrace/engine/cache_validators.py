"""Cache validators at Prefect's import path (``prefect.engine.cache_validators``); they
live in :mod:`headrace.engine.cache`, but for ``never_use``."""

from typing import Any

from headrace.engine.cache import (
    all_inputs,
    all_parameters,
    duration_only,
    partial_inputs_only,
    partial_parameters_only,
)

__all__ = [
    "all_inputs",
    "all_parameters",
    "duration_only",
    "never_use",
    "partial_inputs_only",
    "partial_parameters_only",
]


def never_use(state: Any, inputs: Any, parameters: Any) -> bool:
    """A validator that never accepts a cached result (every run computes afresh)."""
    return False
