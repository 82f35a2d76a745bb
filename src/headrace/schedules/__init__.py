"""When a flow runs on its own: interval and cron schedules, and unions of them."""

from headrace.schedules.base import BaseSchedule, Schedule
from headrace.schedules.clocks import CronSchedule, IntervalSchedule
from headrace.schedules.errors import ScheduleError
from headrace.schedules.serialize import schedule_from_dict

__all__ = [
    "BaseSchedule",
    "CronSchedule",
    "IntervalSchedule",
    "Schedule",
    "ScheduleError",
    "schedule_from_dict",
]
