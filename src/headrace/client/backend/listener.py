"""``TaskStateListener``: the engine listener through which a backend run reports task
states.

The flow runner calls it on every task-run state change; it puts one tuple on the run's
:class:`~headrace.client.backend.reporter.Reporter` and remembers the last state it saw of
each task run, so the runner can settle at the end only what was not reported. Pickled for
a worker process it becomes a :class:`~headrace.client.backend.worker.WorkerListener`
(which reports from there) and never carries the reporter or the API key.
"""

from __future__ import annotations

from typing import Any

from headrace.client.backend.reporter import Reporter
from headrace.client.backend.worker import worker_listener
from headrace.core.task import Task
from headrace.engine.state import State

__all__ = ["TaskStateListener"]


class TaskStateListener:
    """The engine listener: one tuple on the queue per task state change. Pickled for a
    worker process it becomes a :class:`~headrace.client.backend.worker.WorkerListener`,
    which reports from there (``shipped`` is then set: the final reconciliation asks the
    server what the workers reported)."""

    __slots__ = (
        "api_url",
        "flow_run_id",
        "reported",
        "reporter",
        "secret_names",
        "shipped",
        "slugs",
        "token",
    )

    def __init__(
        self,
        reporter: Reporter,
        slugs: dict[Task, str],
        api_url: str = "",
        flow_run_id: str = "",
        secret_names: tuple[str, ...] = (),
        token: str | None = None,
    ) -> None:
        self.reporter: Reporter | None = reporter
        #: The per-run token workers report with (None: they use their own config's key).
        self.token = token
        self.slugs = slugs
        self.reported: dict[tuple[str, int], str] = {}
        self.api_url = api_url
        self.flow_run_id = flow_run_id
        self.secret_names = secret_names
        self.shipped = False

    def __reduce__(self) -> Any:
        self.shipped = True
        return (worker_listener, (self.api_url, self.flow_run_id, self.secret_names, self.token))

    def __call__(self, task: Task, map_index: int | None, old: State, new: State) -> None:
        if self.reporter is None:
            return
        slug = self.slugs.get(task) or task.slug or task.name
        index = -1 if map_index is None else map_index
        self.reported[(slug, index)] = type(new).__name__
        self.reporter.task_state(slug, index, new, task.name, None)
