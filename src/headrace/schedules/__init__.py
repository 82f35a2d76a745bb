"""When a flow runs on its own: Prefect 1's schedules of clocks, filters and adjustments.

``Schedule(clocks=[...], filters=[...], or_filters=[...], not_filters=[...],
adjustments=[...])`` with ``IntervalClock``, ``CronClock``, ``DatesClock`` and
``RRuleClock`` (see :mod:`headrace.schedules.clocks`, ``.filters``, ``.adjustments``);
``IntervalSchedule`` and ``CronSchedule`` are one-clock shortcuts. Every schedule made of
headrace's own parts serializes to JSON and back (:func:`schedule_from_dict`).
"""

from headrace.schedules import adjustments, clocks, filters
from headrace.schedules.clocks import (
    Clock,
    ClockEvent,
    CronClock,
    DatesClock,
    IntervalClock,
    RRuleClock,
)
from headrace.schedules.errors import ScheduleError
from headrace.schedules.schedule import BaseSchedule, Schedule
from headrace.schedules.serialize import clock_from_dict, schedule_from_dict
from headrace.schedules.shortcuts import CronSchedule, IntervalSchedule, RRuleSchedule

__all__ = [
    "BaseSchedule",
    "Clock",
    "ClockEvent",
    "CronClock",
    "CronSchedule",
    "DatesClock",
    "IntervalClock",
    "IntervalSchedule",
    "RRuleClock",
    "RRuleSchedule",
    "Schedule",
    "ScheduleError",
    "adjustments",
    "clock_from_dict",
    "clocks",
    "filters",
    "schedule_from_dict",
]
