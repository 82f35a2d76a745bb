"""What the task runner's steps decide: the next state and the one thing to do next.

A step (:mod:`~headrace.engine.steps`) never performs anything: it returns a
:data:`Decision` -- ``(state, then)`` -- and the driver
(:class:`~headrace.engine.task_runner.TaskRunner`) applies its ``state`` through the
transition table (which tells the state handlers and the listeners: the run's *report*)
and then carries out its instruction, handing what that produced to the next step. The
instructions are the only I/O a task run does:

=====================  ===============================================  =====================
instruction            the driver ...                                   ... then asks
=====================  ===============================================  =====================
:class:`Execute`       calls the task's code (attempt ``run_count``)    ``after_attempt``
:class:`WaitUntil`     asks whether to end the pass or sleep first      ``wait``
:class:`Sleep`         sleeps until the start time                      ``start``
:class:`ReadTarget`    reads the task's target, if it is there          ``after_target``
:class:`ReadCache`     looks the cache up for a still-valid entry       ``after_cache``
:class:`Persist`       writes the state's result                        ``after_persist``
:class:`Remember`      stores the cache entry (or sends it back on      -- (applies ``state``)
                       the state), then applies ``state``
:class:`NextIteration` sets the context up for a loop's next iteration  ``start``
=====================  ===============================================  =====================

(the steps named are in :mod:`~headrace.engine.steps`).
``then=None`` ends the run in the applied state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headrace.engine.state import Cached, Looped, State

__all__ = [
    "Decision",
    "Execute",
    "Instruction",
    "NextIteration",
    "Persist",
    "ReadCache",
    "ReadTarget",
    "Remember",
    "Sleep",
    "WaitUntil",
]


@dataclass(frozen=True, slots=True)
class Execute:
    """Call the task's code with its inputs: attempt ``run_count`` (1 on the first)."""

    run_count: int


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """The applied state starts later (a retry, a given ``Scheduled`` state): attempt
    ``run_count`` may start at ``when`` (or at the applied state's own ``start_time``, if
    a state handler changed it)."""

    when: datetime | None
    run_count: int


@dataclass(frozen=True, slots=True)
class Sleep:
    """Sleep until ``until`` (the start time :func:`~headrace.engine.steps.wait` found
    ahead), then start attempt ``run_count``."""

    until: datetime
    run_count: int


@dataclass(frozen=True, slots=True)
class ReadTarget:
    """Read the result at the task's target, when something is there."""


@dataclass(frozen=True, slots=True)
class ReadCache:
    """Look for a valid cache entry for this run's inputs and parameters."""


@dataclass(frozen=True, slots=True)
class Persist:
    """Write ``state``'s result with the task's ``Result`` (at its target if it has one)."""

    state: State


@dataclass(frozen=True, slots=True)
class Remember:
    """Keep ``entry`` as the cache entry of this run, then end in ``state``."""

    state: State
    entry: Cached


@dataclass(frozen=True, slots=True)
class NextIteration:
    """A looping task finished iteration ``looped.loop_count``: set the context up for the
    next one (``task_loop_count``, ``task_loop_result``) and run again."""

    looped: Looped


Instruction = (
    Execute | WaitUntil | Sleep | ReadTarget | ReadCache | Persist | Remember | NextIteration
)

READ_TARGET = ReadTarget()
READ_CACHE = ReadCache()
EXECUTE_FIRST = Execute(1)


#: A step's verdict, a pair: apply ``state`` (None: stay), then do ``then`` (None: stop).
#: A plain tuple: every task run makes two or three, and a tuple costs a fraction of any
#: class to build (the driver unpacks it at once).
Decision = tuple["State | None", "Instruction | None"]

STOP: Decision = (None, None)
