"""``TaskSpec``: one task of a flow run, frozen, with everything its runs read resolved.

The task runner's steps (:mod:`~headrace.engine.steps`) decide from a spec, the upstream
states and the current state alone; the spec is built once per task and run, where the
run starts, from the task and the run's :class:`~headrace.engine.settings.RunSettings`:
whether results are written and with which ``Result``, the retry delay, the timeout, the
cache identity. It travels with the task runner to whichever worker runs the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from headrace.engine.settings import RunSettings

if TYPE_CHECKING:
    from headrace.core.task import Task
    from headrace.engine.results.base import Result

__all__ = ["TaskSpec"]


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A task as its runs see it.

    ``writes``: a successful run's result is written (the task checkpoints, or has a
    ``target``) with ``result``, which is also what reads a target back (None when neither
    happens). ``retry_later``/``keep_finished`` are the run's settings of the same names
    (see :class:`RunSettings`: ``returns_retrying``, ``keep_finished``).
    """

    task: Task
    slug: str
    cache_identity: str
    writes: bool
    result: Result | None
    retry_delay: float
    timeout: float | None
    retry_later: bool
    keep_finished: bool

    @classmethod
    def build(
        cls,
        task: Task,
        settings: RunSettings,
        slug: str | None = None,
        flow_name: str = "",
    ) -> TaskSpec:
        """The spec of ``task`` in a run with ``settings``."""
        slug = slug or task.slug or task.name
        fn = getattr(task.run, "__func__", task.run)
        code = f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', type(fn).__name__)}"
        chosen = task.result or settings.flow_result
        checkpoint = task.checkpoint
        persists = (
            (settings.checkpointing and chosen is not None) if checkpoint is None else checkpoint
        )
        writes = persists or task.target is not None
        if writes and chosen is None:
            from headrace.engine.results.local import LocalResult

            chosen = LocalResult()
        delay = task.retry_delay
        return cls(
            task=task,
            slug=slug,
            cache_identity=f"{flow_name}/{slug}/{code}",
            writes=writes,
            result=chosen if writes else None,
            retry_delay=settings.default_retry_delay if delay is None else float(delay),
            timeout=settings.default_timeout if task.timeout is None else task.timeout,
            retry_later=settings.returns_retrying,
            keep_finished=settings.keep_finished,
        )

    @property
    def name(self) -> str:
        return self.task.name

    def cache_base(self) -> str:
        """The key this task's results are cached under (``cache_key`` shares it)."""
        return self.task.cache_key or self.cache_identity

    def cache_key_for(self, map_index: int | None) -> str:
        """The cache key of one run: each mapped child caches on its own."""
        base = self.cache_base()
        return base if map_index is None else f"{base}[{map_index}]"
