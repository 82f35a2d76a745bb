"""``LocalEnvironment``: run the flow in this process, on the executor it was given."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from headrace.environments.execution.base import Environment

if TYPE_CHECKING:
    from headrace.storage.base import Storage

__all__ = ["LocalEnvironment"]


class LocalEnvironment(Environment):
    """Runs the flow in-process with ``executor`` (an executor or executor class); without
    one, with the flow's own executor, else the default executor class from config.

    This is the environment of every flow that names none.
    """

    def __init__(
        self,
        executor: Any = None,
        labels: Iterable[str] | None = None,
        on_start: Callable[[], Any] | None = None,
        on_exit: Callable[[], Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(labels=labels, on_start=on_start, on_exit=on_exit, metadata=metadata)
        if executor is not None and not callable(getattr(executor, "submit", None)):
            raise TypeError(
                f"LocalEnvironment: executor must be an executor or executor class, "
                f"not {type(executor).__name__}"
            )
        self.executor = executor

    def run_flow(self, storage: Storage, flow_location: str, executor: Any, **kwargs: Any) -> Any:
        from headrace.engine import get_default_flow_runner_class

        flow = storage.get_flow(flow_location)
        chosen = executor if executor is not None else flow.executor
        runner = get_default_flow_runner_class()(flow=flow)
        run = getattr(runner, "run_until_done", runner.run)  # comes back for later retries
        return run(executor=chosen, **kwargs)

    def executor_for(self, storage: Storage, flow_location: str) -> Any:
        # None lets the flow's own executor (or the configured default) decide.
        return self.executor
