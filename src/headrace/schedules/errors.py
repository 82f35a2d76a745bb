"""Errors raised by schedules."""

from __future__ import annotations

from headrace.exceptions import HeadraceError

__all__ = ["ScheduleError"]


class ScheduleError(HeadraceError, ValueError):
    """A schedule is malformed (bad cron expression, non-positive interval, unknown type...)."""
