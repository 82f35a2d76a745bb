"""``Environment``: how a flow executes once its run reached its infrastructure.

An environment is stored with its flow (pickled in the flow's storage); only its type,
labels and metadata reach the server. A custom environment is any subclass: override
``setup`` and ``execute``; list modules it needs in ``dependencies`` so the build-time
health checks import them first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from headrace._serializable.schema import Serializable, string_list
from headrace.utilities.logging import get_logger

if TYPE_CHECKING:
    from headrace.storage.base import Storage

__all__ = ["Environment"]


def _check_callback(value: Any, what: str, owner: str) -> Callable[[], Any] | None:
    if value is not None and not callable(value):
        raise TypeError(f"{owner}: {what} must be callable, not {type(value).__name__}")
    return value


class Environment(Serializable):
    """Base of execution environments (and itself a working one: it runs the flow in this
    process with the default flow runner and executor).

    ``labels`` route the flow's runs to agents; ``on_start``/``on_exit`` are called before
    and after the run (``on_exit`` even when the run raised); ``metadata`` is free-form JSON
    that travels to the server with the labels.
    """

    serialized_kind = "environment"
    serialized_fields: ClassVar[tuple[str, ...]] = ("labels", "metadata")

    def __init__(
        self,
        labels: Iterable[str] | None = None,
        on_start: Callable[[], Any] | None = None,
        on_exit: Callable[[], Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        owner = type(self).__name__
        self.labels: set[str] = set(string_list(labels, "labels", owner))
        self.on_start = _check_callback(on_start, "on_start", owner)
        self.on_exit = _check_callback(on_exit, "on_exit", owner)
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError(f"{owner}: metadata must be a mapping, not {type(metadata).__name__}")
        self.metadata: dict[str, Any] = dict(metadata or {})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} labels={sorted(self.labels)}>"

    @property
    def dependencies(self) -> list[str]:
        """Modules the environment imports at run time; the health checks import each."""
        return []

    @property
    def logger(self) -> logging.Logger:
        """This environment's logger, ``headrace.environment.<ClassName>``."""
        return get_logger(f"environment.{type(self).__name__}")

    def setup(self, storage: Storage) -> None:
        """Prepare any infrastructure the flow needs before :meth:`execute` (none here)."""

    def run_flow(self, storage: Storage, flow_location: str, executor: Any, **kwargs: Any) -> Any:
        """Load the flow from ``storage`` and run it with the default flow runner on
        ``executor``; returns the flow's final state."""
        from headrace.engine import get_default_flow_runner_class

        flow = storage.get_flow(flow_location)
        runner = get_default_flow_runner_class()(flow=flow)
        run = getattr(runner, "run_until_done", runner.run)  # comes back for later retries
        return run(executor=executor, **kwargs)

    def executor_for(self, storage: Storage, flow_location: str) -> Any:
        """The executor (instance or class) runs use; the base class takes the default."""
        from headrace.engine import get_default_executor_class

        return get_default_executor_class()

    def execute(self, storage: Storage, flow_location: str, **kwargs: Any) -> Any:
        """Run the flow at ``flow_location`` in ``storage``: ``on_start``, the run, then
        ``on_exit`` whatever happened. Errors are logged and re-raised; ``kwargs`` go to the
        flow runner's ``run``. Returns the flow's final state."""
        if self.on_start is not None:
            self.on_start()
        try:
            executor = self.executor_for(storage, flow_location)
            return self.run_flow(storage, flow_location, executor, **kwargs)
        except Exception as exc:
            self.logger.exception(
                "Unexpected error raised during flow run of %r: %s", flow_location, exc
            )
            raise
        finally:
            if self.on_exit is not None:
                self.on_exit()
