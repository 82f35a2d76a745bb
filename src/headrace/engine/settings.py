"""``RunSettings``: what a flow run runs with, resolved once where the run starts.

``flow.run()`` and ``FlowRunner.run()`` build one from their arguments, the flow and the
configuration, and everything below them reads it instead of the global configuration:
nothing reads ``config`` in the middle of a run, so a run's behaviour is fixed by what it
was started with (and a task run shipped to a worker behaves as it would have here).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.engine.contracts import ExecutorLike
    from headrace.engine.results.base import Result

__all__ = ["RunSettings"]


@dataclass(frozen=True, slots=True)
class RunSettings:
    """The settings of one flow run.

    ``executor`` runs the task runs; ``flow_result`` is the ``Result`` tasks without their
    own persist with; ``checkpointing`` says whether results are persisted at all (a task's
    own ``checkpoint`` overrides it); ``default_retry_delay`` (seconds) is the delay of a
    task with retries but no ``retry_delay``; ``default_timeout`` (seconds, or None) bounds
    a task without its own ``timeout``. ``returns_retrying``: a task whose retry starts
    later ends the run's pass ``Retrying`` (``flow.run()`` comes back for it) instead of
    the runner waiting for it; ``keep_finished`` keeps given finished states as they are
    (a later pass of the same run).
    """

    executor: ExecutorLike | None = None
    flow_result: Result | None = None
    checkpointing: bool = False
    default_retry_delay: float = 0.0
    default_timeout: float | None = None
    returns_retrying: bool = True
    keep_finished: bool = False

    @classmethod
    def from_config(cls, **given: Any) -> RunSettings:
        """Settings from the configuration (``flows.checkpointing``,
        ``tasks.default_retry_delay``, ``tasks.default_timeout``: seconds, 0 or less for
        none), overridden by ``given``."""
        from headrace.configuration import config

        tasks = config.tasks
        timeout = tasks.get("default_timeout") or 0
        values: dict[str, Any] = {
            "checkpointing": bool(config.flows.checkpointing),
            "default_retry_delay": float(tasks.default_retry_delay),
            "default_timeout": float(timeout) if float(timeout) > 0 else None,
        }
        values.update(given)
        return cls(**values)

    def replace(self, **changes: Any) -> RunSettings:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)
