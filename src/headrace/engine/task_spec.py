"""``TaskSpec``: one task of a flow run, frozen, with everything its runs read resolved.

The task runner's steps (:mod:`~headrace.engine.steps`) decide from a spec, the upstream
states and the current state alone; the spec is built once per task and run, where the
run starts, from the task and the run's :class:`~headrace.engine.settings.RunSettings`:
whether results are written and with which ``Result``, the retry delay, the timeout, the
cache identity. It travels with the task runner to whichever worker runs the task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from headrace.engine.settings import RunSettings

if TYPE_CHECKING:
    from headrace.core.task import Task
    from headrace.engine.results.base import Result

__all__ = ["TaskSpec"]


class TaskSpec(NamedTuple):
    """A task as its runs see it: immutable (a named tuple -- built for every task of every
    run, it costs a fraction of a frozen dataclass).

    ``cache_identity`` is set for a task that caches (``cache_for``). ``writes``: a
    successful run's result is written (the task checkpoints, or has a
    ``target``) with ``result``, which is also what reads a target back (None when neither
    happens). ``retry_later``/``keep_finished`` are the run's settings of the same names
    (see :class:`RunSettings`: ``returns_retrying``, ``keep_finished``). ``write_keys``:
    the only formatting keys a write needs, when ``result`` says so and the task has no
    ``target`` (:meth:`~headrace.engine.results.base.Result.formatting_keys`); None: all.
    """

    task: Task
    slug: str
    flow_name: str
    cache_identity: str | None
    writes: bool
    result: Result | None
    retry_delay: float
    timeout: float | None
    retry_later: bool
    keep_finished: bool
    write_keys: frozenset[str] | None = None

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
        chosen = task.result or settings.flow_result
        checkpoint = task.checkpoint
        if checkpoint is None:
            persists = settings.checkpointing and chosen is not None
        else:
            persists = bool(checkpoint)
        writes = persists or task.target is not None
        if writes and chosen is None:
            from headrace.engine.results.local import LocalResult

            chosen = LocalResult()
        delay = task.retry_delay
        keys = None
        if writes and task.target is None and chosen is not None:
            keys = chosen.formatting_keys()
        return cls(
            task,
            slug,
            flow_name,
            _identity(task, slug, flow_name) if task.cache_for is not None else None,
            writes,
            chosen if writes else None,
            settings.default_retry_delay if delay is None else float(delay),
            settings.default_timeout if task.timeout is None else task.timeout,
            settings.returns_retrying,
            settings.keep_finished,
            keys,
        )

    @property
    def name(self) -> str:
        return self.task.name

    def cache_base(self) -> str:
        """The key this task's results are cached under: its ``cache_key`` (a cache shared
        on purpose), else its identity within the flow (flow name, slug, the code it
        runs), so tasks that share only a name never share a cache."""
        if self.task.cache_key:
            return self.task.cache_key
        return self.cache_identity or _identity(self.task, self.slug, self.flow_name)

    def cache_key_for(self, map_index: int | None) -> str:
        """The cache key of one run: each mapped child caches on its own."""
        base = self.cache_base()
        return base if map_index is None else f"{base}[{map_index}]"


def _identity(task: Task, slug: str, flow_name: str) -> str:
    fn = getattr(task.run, "__func__", task.run)
    code = f"{getattr(fn, '__module__', '')}:{getattr(fn, '__qualname__', type(fn).__name__)}"
    return f"{flow_name}/{slug}/{code}"
