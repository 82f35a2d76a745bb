"""``DaskExecutor``: runs tasks on a dask.distributed cluster.

How it uses the cluster, and why:

- ``submit`` only adds a node to a dask graph (:mod:`headrace.executors.graph`); the graph
  goes to the scheduler in one ``update-graph`` message when the flow runner waits, the way
  ``dask.compute`` sends ``dask.delayed`` graphs. One message per flow instead of one per task.
- A mapped task's children run in chunks (:mod:`headrace.engine.mapping` decides them,
  :mod:`headrace.engine.chunk_runner` runs them): one dask task per contiguous slice of
  children, two per worker thread of the cluster by default or ``chunk_size`` children each.
  Per-task dispatch on a cluster costs about a millisecond (scheduler round trips), which
  chunks pay once per slice instead of once per child.
- The calls of one ``submit_many`` (a mapped task's chunks) share one data node holding
  the task's code: workers fetch it once each instead of receiving it with every call.
- Chained maps need nothing special: chunk *i* of a map depends only on chunk *i*
  upstream, and dask's scheduler runs such a graph depth-first.
- Results are gathered in batches as they finish and their futures released at once, so
  the cluster frees each result as soon as its downstream tasks no longer need it.
- When workers die dask re-runs their tasks elsewhere. A call whose workers keep dying
  (dask's ``KilledWorker``) resolves to what its
  :class:`~headrace.engine.contracts.Runnable`'s ``on_worker_lost`` says (a
  ``Failed`` state naming the task); calls that depended on it are submitted again with that
  state as their input, so triggers downstream see a failed upstream task as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from headrace.engine.contracts import Runnable
from headrace.executors._dask import DataNode, Task
from headrace.executors.base import Executor, check_chunk_size, chunk_count_for
from headrace.executors.errors import (
    ClusterClassError,
    ExecutorConfigError,
    ExecutorError,
    WorkerLostError,
)
from headrace.executors.graph import (
    GraphBuilder,
    Ref,
    as_dask,
    collect_keys,
    label_of,
    substitute,
)

__all__ = ["DaskExecutor"]


class DaskExecutor(Executor):
    """Runs tasks on the dask.distributed cluster at ``address``, or on a temporary cluster
    started for the run (``cluster_class(**cluster_kwargs)``, a ``LocalCluster`` by default;
    a class or its ``"module.Class"`` name, such as a dask-jobqueue or dask-kubernetes
    cluster) and closed after it. ``adapt_kwargs`` makes the temporary cluster adaptive;
    ``client_kwargs`` go to ``distributed.Client``; ``debug=True`` keeps the temporary
    cluster's logs. ``chunk_size`` is how many mapped children one dask task runs (by
    default the children are split into two chunks per worker thread of the cluster).
    """

    def __init__(
        self,
        address: str | None = None,
        cluster_class: type | str | None = None,
        cluster_kwargs: Mapping[str, Any] | None = None,
        adapt_kwargs: Mapping[str, Any] | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
        debug: bool = False,
        chunk_size: int | None = None,
    ) -> None:
        if address is not None and not isinstance(address, str):
            raise ExecutorConfigError(f"DaskExecutor: address must be a string, not {address!r}")
        if address is not None and (cluster_class is not None or cluster_kwargs or adapt_kwargs):
            raise ExecutorConfigError(
                f"DaskExecutor: joins the cluster at {address!r}, so cluster_class, "
                "cluster_kwargs and adapt_kwargs (which describe a temporary cluster) must not "
                "be given"
            )
        if cluster_class is not None and not isinstance(cluster_class, (str, type)):
            raise ClusterClassError(
                f"DaskExecutor: cluster_class must be a class or a 'module.Class' string, "
                f"not {cluster_class!r}"
            )
        self.address = address
        self.cluster_class = cluster_class
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.adapt_kwargs = dict(adapt_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self.debug = debug
        self.chunk_size = check_chunk_size(self, chunk_size)
        self.client: Any = None
        self.cluster: Any = None
        self._reset()

    def __repr__(self) -> str:
        where = self.address or _class_name(self.cluster_class or "LocalCluster")
        return f"<DaskExecutor {where}>"

    def _reset(self) -> None:
        self._graph: GraphBuilder | None = None
        self._values: dict[str, Any] = {}
        self._live: dict[str, Any] = {}  # driver key -> distributed Future
        self._driver_key: dict[str, str] = {}  # dask key -> driver key
        self._renamed: dict[str, str] = {}  # driver key -> dask key of its latest submission
        self._calls: dict[Any, Call] = {}
        self._threads: int | None = None  # the cluster's worker threads, asked once a run

    # ---- the cluster -----------------------------------------------------------------

    def resolve_cluster_class(self) -> type:
        """The temporary cluster's class (``distributed.LocalCluster`` by default)."""
        chosen = self.cluster_class
        if chosen is None:
            from distributed import LocalCluster

            return LocalCluster
        if isinstance(chosen, str):
            from headrace.utilities.imports import import_object

            try:
                chosen = import_object(chosen)
            except ImportError as exc:
                raise ClusterClassError(
                    f"DaskExecutor: cannot import cluster_class {self.cluster_class!r}: {exc}"
                ) from exc
        if not isinstance(chosen, type):
            raise ClusterClassError(
                f"DaskExecutor: cluster_class {self.cluster_class!r} is not a class"
            )
        return chosen

    @contextmanager
    def start(self) -> Iterator[None]:
        """Connect (starting a temporary cluster if there is no address) for one run."""
        import distributed
        from distributed import LocalCluster

        Client: Any = distributed.Client  # untyped

        client_kwargs = {"set_as_default": False, **self.client_kwargs}
        self._reset()
        try:
            if self.address is not None:
                self.client = Client(self.address, **client_kwargs)
            else:
                cls = self.resolve_cluster_class()
                kwargs = dict(self.cluster_kwargs)
                if issubclass(cls, LocalCluster) and not self.debug:
                    kwargs.setdefault("silence_logs", logging.ERROR)
                self.cluster = cls(**kwargs)
                if self.adapt_kwargs:
                    self.cluster.adapt(**self.adapt_kwargs)
                self.client = Client(self.cluster, **client_kwargs)
            self._graph = GraphBuilder()
            yield
        except BaseException:
            # the run is being stopped (or failed): nothing will use what the temporary
            # cluster's workers are running, so they are stopped now rather than waited for
            # (an in-process worker would wait 30 s for each of its busy threads)
            if self.cluster is not None:
                stop_workers_now(self.cluster)
            raise
        finally:
            for future in self._live.values():
                future.release()
            self._reset()
            if self.client is not None:
                self.client.close()
                self.client = None
            if self.cluster is not None:
                self.cluster.close()
                self.cluster = None

    # ---- submitting ------------------------------------------------------------------

    def _builder(self) -> GraphBuilder:
        if self._graph is None:
            raise ExecutorConfigError(f"{self!r} is not started: use `with executor.start():`")
        return self._graph

    def map_chunk_count(self, count: int) -> int:
        if self.chunk_size is None and self._threads is None and count:
            # an adaptive cluster may have no workers yet: then plan for this machine's cores
            self._threads = sum(self.client.nthreads().values()) or None
        return chunk_count_for(count, self._threads, self.chunk_size)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Ref:
        if kwargs:
            return self._builder().add(fn, args, kwargs)
        ref = self._builder().add(fn, args, {})
        self._calls[ref.key] = Call(fn, args)
        return ref

    def submit_many(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        refs = self._builder().add_many(fn, calls, share=True)
        record = self._calls
        for ref, args in zip(refs, calls, strict=True):
            record[ref.key] = Call(fn, args)
        return refs

    def _flush(self) -> None:
        """Send the pending nodes to the scheduler in one graph."""
        nodes = self._builder().take()
        if not nodes:
            return
        dsk: dict[str, Any] = {}
        live, values, renamed = self._live, self._values, self._renamed
        value_keys: dict[Any, str] = {}  # results already here, sent back as data nodes
        for key, pending in nodes.items():
            node = as_dask(pending, pickled=True)
            subs: dict[Any, Any] = {}
            for dep in node.dependencies:
                current = renamed.get(dep, dep)
                if current in nodes or dep in live:
                    if current != dep:
                        subs[dep] = current
                elif dep in values:
                    if dep not in value_keys:
                        value_keys[dep] = value_key = self._builder().key(f"{dep}-value")
                        dsk[value_key] = DataNode(value_key, values[dep])
                    subs[dep] = value_keys[dep]
                else:
                    raise ExecutorError(f"{self!r}: {key!r} depends on unknown call {dep!r}")
            dsk[key] = node.substitute(subs) if subs else node
        keys = [k for k, n in dsk.items() if k in nodes and isinstance(n, Task)]
        futures = self.client.get(dsk, keys, sync=False)
        driver_key = self._driver_key
        for key, future in zip(keys, futures, strict=True):
            drv = driver_key.setdefault(key, key)
            live[drv] = future

    # ---- waiting ---------------------------------------------------------------------

    def wait(self, futures: Any) -> Any:
        self._flush()
        keys: set[str] = set()
        collect_keys(futures, keys)
        values = self._values
        todo = [k for k in keys if k not in values]
        while todo:
            self._gather([self._live[k] for k in todo if k in self._live])
            self._flush()
            todo = [k for k in todo if k not in values]
        return substitute(futures, values)

    def _gather(self, futures: list[Any]) -> None:
        """Collect the results of ``futures`` (in one round trip) and release them."""
        values, driver_key = self._values, self._driver_key
        gathered = self.client.gather({f.key: f for f in futures}, errors="skip")
        for future in futures:
            if future.status == "finished":
                values[driver_key[future.key]] = gathered[future.key]
            else:
                self._failed(future)
        for future in futures:
            drv = driver_key.pop(future.key)
            self._live.pop(drv, None)
            if drv in values:
                self._calls.pop(drv, None)
            future.release()

    def _failed(self, future: Any) -> None:
        """A call that did not finish: lost with its workers, or raised (which we re-raise)."""
        from distributed import KilledWorker

        drv = self._driver_key[future.key]
        if future.status == "cancelled":
            raise ExecutorError(
                f"{self!r}: the cluster cancelled call {drv!r} (it lost its scheduler "
                "or the client was closed)"
            )
        exc = future.exception()
        if not isinstance(exc, KilledWorker):
            future.result()  # re-raises the call's own error with its traceback
        call = self._calls.get(drv)
        if call is None:  # submitted with keyword arguments: nothing to hand a lost value to
            raise WorkerLostError(f"call {drv!r}: its workers kept dying ({exc})") from exc
        if exc.task == future.key:
            error = WorkerLostError(
                f"the worker running it died, {exc.allowed_failures + 1} times on "
                "different workers, so dask gave up on it (KilledWorker)"
            )
            self._values[drv] = _lost_value(call, error, drv)
            return
        # An upstream call was lost: run this one again with that call's lost value.
        builder = self._builder()
        new_key = builder.key(label_of(call.fn))
        builder.pending[new_key] = builder.node(new_key, call.fn, call.args, {})
        self._renamed[drv] = new_key
        self._driver_key[new_key] = drv
        self._calls[drv] = call


def stop_workers_now(cluster: Any, timeout: float = 1.0) -> None:
    """Stop the workers of ``cluster`` without waiting for their running tasks: a worker in
    a process of its own (under a ``Nanny``) is asked to stop and killed ``timeout``
    seconds later; a worker in this process stops without waiting for its threads (they
    cannot be interrupted; a task still running there finishes unobserved). Workers of
    other kinds (a dask-jobqueue job...) are left to the cluster's own ``close``."""
    from distributed import Nanny, Worker

    workers = list(getattr(cluster, "workers", {}).values())

    async def stop(worker: Any) -> None:
        if isinstance(worker, Nanny):
            await worker.kill(timeout=timeout, reason="headrace-run-stopped")
        elif isinstance(worker, Worker):
            await worker.close(timeout=timeout, executor_wait=False, reason="headrace-run-stopped")

    async def stop_all() -> None:
        await asyncio.gather(*(stop(w) for w in workers), return_exceptions=True)

    if workers:
        try:
            cluster.sync(stop_all)
        except Exception as exc:  # the cluster's own close still runs
            logging.getLogger("headrace.executors").warning(
                "could not stop the workers of %r at once: %s", cluster, exc
            )


def _lost_value(call: Call, error: Exception, key: str) -> Any:
    """What a lost call resolves to: its :class:`Runnable`'s ``on_worker_lost`` verdict,
    or the error for any other callable."""
    if not isinstance(call.fn, Runnable):
        raise WorkerLostError(f"call {key!r}: {error}") from error
    return call.fn.on_worker_lost(error, *call.args)


@dataclass(frozen=True, slots=True)
class Call:
    """A submitted call, kept until its result arrives: what to run again (or ask for its
    lost value) when the workers running it die."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]


def _class_name(cls: Any) -> str:
    return cls if isinstance(cls, str) else getattr(cls, "__name__", repr(cls))
