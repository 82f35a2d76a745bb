"""Public path of the triggers: ``from headrace.triggers import all_successful``.

Triggers are part of the engine and live in :mod:`headrace.engine.triggers`; this module
names the same functions so Prefect-style imports keep working.
"""

from headrace.engine.triggers import (
    Trigger,
    all_failed,
    all_finished,
    all_successful,
    always_run,
    any_failed,
    any_successful,
    manual_only,
    not_all_skipped,
    some_failed,
    some_successful,
)

__all__ = [
    "Trigger",
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "some_failed",
    "some_successful",
]
