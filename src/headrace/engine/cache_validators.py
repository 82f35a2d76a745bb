"""Cache validators at Prefect's import path (``prefect.engine.cache_validators``); they
live in :mod:`headrace.engine.cache`."""

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
    "partial_inputs_only",
    "partial_parameters_only",
]
