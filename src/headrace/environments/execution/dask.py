"""``DaskEnvironment``: run the flow's tasks on a Dask (dask.distributed) cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from headrace.environments.execution.base import Environment

if TYPE_CHECKING:
    from headrace.storage.base import Storage

__all__ = ["DaskEnvironment"]


class DaskEnvironment(Environment):
    """Runs the flow with :class:`~headrace.executors.DaskExecutor`.

    With ``address`` the run joins that cluster's scheduler; without one it starts a
    temporary cluster (``cluster_class``, by default ``distributed.LocalCluster`` on
    127.0.0.1 with ``n_workers``/``threads_per_worker``) for the run and closes it after.
    ``adapt_kwargs`` make that cluster adaptive.
    """

    def __init__(
        self,
        address: str | None = None,
        n_workers: int | None = None,
        threads_per_worker: int | None = None,
        cluster_class: type | str | Callable[..., Any] | None = None,
        cluster_kwargs: Mapping[str, Any] | None = None,
        adapt_kwargs: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
        on_start: Callable[[], Any] | None = None,
        on_exit: Callable[[], Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(labels=labels, on_start=on_start, on_exit=on_exit, metadata=metadata)
        if address is not None and (cluster_class is not None or cluster_kwargs):
            raise ValueError(
                "DaskEnvironment: give either address= (join a cluster) or cluster_class/"
                "cluster_kwargs (start one), not both"
            )
        for name, value in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"DaskEnvironment: {name} must be an int, not {value!r}")
            if value is not None and value < 1:
                raise ValueError(f"DaskEnvironment: {name} must be >= 1, not {value}")
        self.address = address
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.cluster_class = cluster_class
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.adapt_kwargs = dict(adapt_kwargs or {})

    @property
    def dependencies(self) -> list[str]:
        return ["distributed"]

    def executor_for(self, storage: Storage, flow_location: str) -> Any:
        """A ``DaskExecutor`` joining ``address``, or starting the configured cluster."""
        import headrace.executors
        from headrace.utilities.imports import import_object

        DaskExecutor = getattr(headrace.executors, "DaskExecutor", None) or import_object(
            "headrace.executors.dask_distributed:DaskExecutor"
        )

        if self.address is not None:
            return DaskExecutor(address=self.address)
        cluster_kwargs = dict(self.cluster_kwargs)
        if self.n_workers is not None:
            cluster_kwargs.setdefault("n_workers", self.n_workers)
        if self.threads_per_worker is not None:
            cluster_kwargs.setdefault("threads_per_worker", self.threads_per_worker)
        if self.cluster_class is None:
            cluster_kwargs.setdefault("host", "127.0.0.1")
            cluster_kwargs.setdefault("dashboard_address", "127.0.0.1:0")
        return DaskExecutor(
            cluster_class=self.cluster_class,
            cluster_kwargs=cluster_kwargs,
            adapt_kwargs=self.adapt_kwargs or None,
        )
