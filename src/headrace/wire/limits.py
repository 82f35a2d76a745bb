"""What one request body may hold: the sizes and integer ranges of the API's bodies and
query values, shared by the server (which refuses more with a 422) and the runner (which
never sends more)."""

from __future__ import annotations

__all__ = ["MAX_BATCH", "MAX_ID", "MAX_OFFSET"]

MAX_BATCH = 5_000
"""Most items one list body may carry (log records, task runs, a report's task-run changes
and logs): what the runner's reporter puts in one batch. A report's compact
``task_states`` rows, a few bytes each, may be 100,000."""
MAX_OFFSET = 1_000_000_000
"""Largest ``offset`` a list route takes."""
MAX_ID = 2**53 - 1
"""Largest integer id a query may name (``after_id``, ``logs_after``)."""
