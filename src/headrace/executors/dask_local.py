"""``LocalDaskExecutor``: dask's local schedulers (threads, processes or synchronous).

``submit`` only adds a node to a dask graph (see :mod:`headrace.executors.graph`);
``wait`` runs the part of the graph it needs with ``dask.threaded.get``,
``dask.multiprocessing.get`` or ``dask.local.get_sync`` -- the schedulers
``dask.compute`` itself uses, fed a plain graph without the cost of building
``dask.delayed`` objects; on threads and sync each chain of tasks is one dask task
(:mod:`headrace.executors.chains`), sparing two thread hand-offs per task. Results stay
here until the run ends, so a later ``wait`` (the flow runner waits early only to learn
the length of something it maps over) never recomputes them.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from types import FrameType
from typing import Any

from headrace.executors._dask import DataNode
from headrace.executors.base import Executor, check_chunk_size, chunk_count_for
from headrace.executors.chains import fuse_chains
from headrace.executors.errors import ExecutorConfigError, ExecutorError
from headrace.executors.graph import GraphBuilder, Ref, as_dask, collect_keys, substitute

__all__ = ["LocalDaskExecutor"]

SCHEDULERS = ("threads", "processes", "sync")
_ALIASES = {"threading": "threads", "multiprocessing": "processes", "synchronous": "sync"}


class LocalDaskExecutor(Executor):
    """Runs tasks with dask's local scheduler on ``num_workers`` threads or processes.

    ``scheduler`` is ``"threads"`` (the default), ``"processes"`` (tasks and their inputs
    travel to worker processes with cloudpickle, so they must be picklable) or ``"sync"``
    (dask's single-threaded scheduler, handy for debugging). ``num_workers`` defaults to the
    number of cores.

    A mapped task's children run in chunks (one dask task runs a contiguous slice of them,
    each child still with its own states and retries): ``chunk_size`` children per chunk,
    or by default two chunks per worker, so a 100,000-child map costs dask a few dozen
    tasks instead of 100,000.
    """

    def __init__(
        self,
        scheduler: str = "threads",
        num_workers: int | None = None,
        chunk_size: int | None = None,
    ) -> None:
        scheduler = _ALIASES.get(scheduler, scheduler)
        if scheduler not in SCHEDULERS:
            raise ExecutorConfigError(
                f"LocalDaskExecutor: unknown scheduler {scheduler!r}; "
                f"choose one of {', '.join(SCHEDULERS)}"
            )
        if num_workers is not None and (not isinstance(num_workers, int) or num_workers < 1):
            raise ExecutorConfigError(
                f"LocalDaskExecutor: num_workers must be a positive int, not {num_workers!r}"
            )
        self.scheduler = scheduler
        self.num_workers = num_workers
        self.chunk_size = check_chunk_size(self, chunk_size)
        self._graph: GraphBuilder | None = None
        self._values: dict[str, Any] = {}
        self._pool: ProcessPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"<LocalDaskExecutor scheduler={self.scheduler!r} num_workers={self.num_workers}>"

    def map_chunk_count(self, count: int) -> int:
        threads = 1 if self.scheduler == "sync" else self.num_workers
        return chunk_count_for(count, threads, self.chunk_size)

    @contextmanager
    def start(self) -> Iterator[None]:
        """A fresh graph for the run (and, for processes, a worker pool) torn down after.

        Left normally, the pool's workers finish what they run. Left by an exception -- a
        stopped run's ``RunCancelled``, Ctrl-C, an engine error -- nothing will use their
        results, so the workers are terminated at once instead of waited for (a task
        sleeping in a worker would otherwise hold the run until its agent's grace period
        ran out, and the run's own cleanup would never run)."""
        self._graph = GraphBuilder()
        self._values = {}
        if self.scheduler == "processes":
            self._pool = process_pool(self.num_workers)
        try:
            yield
        except BaseException:
            if self._pool is not None:
                pool, self._pool = self._pool, None
                terminate_pool(pool)
            raise
        finally:
            self._graph = None
            self._values = {}
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def _builder(self) -> GraphBuilder:
        if self._graph is None:
            raise ExecutorConfigError(f"{self!r} is not started: use `with executor.start():`")
        return self._graph

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Ref:
        return self._builder().add(fn, args, kwargs)

    def submit_many(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        return self._builder().add_many(fn, calls, share=False)

    def wait(self, futures: Any) -> Any:
        keys: set[str] = set()
        collect_keys(futures, keys)
        values = self._values
        missing = [k for k in keys if k not in values]
        if missing:
            self._compute(missing)
        return substitute(futures, values)

    def _compute(self, wanted: list[str]) -> None:
        """Run the pending nodes ``wanted`` needs (all of them, usually) and keep every
        result."""
        builder = self._builder()
        pending = builder.pending
        if len(wanted) < len(pending):
            needed = _ancestors(pending, wanted)
        else:
            needed = set(pending)
        dsk: dict[str, Any] = {k: pending[k] for k in needed}
        values = self._values
        for node in list(dsk.values()):
            for dep in node.dependencies:
                if dep not in dsk:
                    dsk[dep] = DataNode(dep, values[dep])
        if self.scheduler != "processes":  # chains write their results to `values` here
            dsk = fuse_chains(dsk, values)
        else:
            dsk = {k: as_dask(node, pickled=True) for k, node in dsk.items()}
        keys = [k for k in needed if k in dsk]
        results = self._get(dsk, keys)
        for key, value in zip(keys, results, strict=True):
            values[key] = value
        for key in needed:
            del pending[key]

    def _get(self, dsk: dict[str, Any], keys: list[str]) -> Sequence[Any]:
        if self.scheduler == "threads":
            from dask.threaded import get

            values: Sequence[Any] = get(dsk, keys, num_workers=self.num_workers)
            return values
        if self.scheduler == "processes":
            from concurrent.futures.process import BrokenProcessPool

            from dask.multiprocessing import get as mp_get

            try:
                # chunksize=1: dask would otherwise hand a process up to 6 ready tasks at
                # once (its default batching), so 16 map chunks kept only 3 of 8 busy
                values = mp_get(dsk, keys, pool=self._pool, optimize_graph=False, chunksize=1)
                return values
            except BrokenProcessPool as exc:
                raise ExecutorError(
                    f"{self!r}: a worker process died while running tasks ({exc}); "
                    "use DaskExecutor to have lost tasks run again elsewhere"
                ) from exc
        from dask.local import get_sync

        values = get_sync(dsk, keys)
        return values


# What the fork server imports once, so each worker forked from it starts with them loaded.
FORKSERVER_PRELOAD = (
    "cloudpickle",
    "dask.multiprocessing",
    "headrace.engine.task_runner",
    "headrace.engine.chunk_runner",
    "headrace.executors.dask_local",
)


def process_pool(num_workers: int | None) -> ProcessPoolExecutor:
    """The worker processes of a run. With dask's ``multiprocessing.context`` set, that
    context and dask's own setup; else, where the platform has one, workers forked from a
    fork server. Like "spawn" (dask's default) that never forks a process that has threads
    running, but a worker starts in milliseconds -- a fork of a server that has imported
    headrace and dask once -- where a spawned one starts a fresh interpreter and imports
    everything again (0.15-0.3 s each on 2 loaded cores, so 8 workers cost well over a
    second per run)."""
    import multiprocessing

    import dask
    import dask.multiprocessing

    dmp: Any = dask.multiprocessing  # untyped
    configured = dask.config.get("multiprocessing.context", None) is not None
    if configured or "forkserver" not in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(
            num_workers, mp_context=dmp.get_context(), initializer=setup_dask_worker
        )
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(FORKSERVER_PRELOAD))
    return ProcessPoolExecutor(
        num_workers,
        mp_context=context,
        initializer=setup_worker,
        initargs=(dict(os.environ),),
    )


def terminate_pool(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    """Stop ``pool`` without waiting for its running tasks to finish: cancel what has not
    started, SIGTERM every worker (a running task ends ``Cancelled``, see
    :func:`_on_worker_sigterm`; the workers then leave on the shutdown, flushing their
    reporters), SIGKILL those still alive ``grace`` seconds later, and wait until each is
    gone (a worker forked from the fork server is that server's child, which reaps it;
    ``join`` returns once it did)."""
    # the pool's own list of workers; Python 3.14 has ProcessPoolExecutor.terminate_workers
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    deadline = time.monotonic() + grace
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.kill()
            worker.join()


def setup_worker(environ: dict[str, str]) -> None:
    """Prepare a forked worker process. The fork server keeps the environment it was
    started with, maybe runs ago; the worker takes that of the process starting this run,
    as a spawned one would, and re-reads headrace's and dask's configuration if it
    differs (``HEADRACE__...`` and ``DASK_...`` variables set since)."""
    import dask

    if dict(os.environ) != environ:
        os.environ.clear()
        os.environ.update(environ)
        dask.config.refresh()
        from headrace.configuration import reload_config
        from headrace.utilities.logging import configure_logging

        reload_config()
        configure_logging()
    setup_dask_worker()


def setup_dask_worker() -> None:
    """dask's own setup of a worker process, and the worker's SIGTERM handling."""
    import dask.multiprocessing

    dmp: Any = dask.multiprocessing  # untyped
    dmp.initialize_worker_process()
    signal.signal(signal.SIGTERM, _on_worker_sigterm)


def _on_worker_sigterm(signum: int, frame: FrameType | None) -> None:
    """A worker's SIGTERM (from :func:`terminate_pool`, or the run's process group being
    stopped): the task it is running ends ``Cancelled`` -- ``RunCancelled`` interrupts it as
    it does the run's main thread -- and returns; the worker then leaves on the pool's
    shutdown and sends what its reporters hold on the way out. Later SIGTERMs are ignored
    so they cannot cut that short (SIGKILL still ends it). An idle worker ignores it too:
    it leaves on the pool's shutdown."""
    if not _in_a_task(frame):
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from headrace.engine.signals import RunCancelled

    raise RunCancelled(f"its worker process {os.getpid()} got SIGTERM: the run is stopping")


def _in_a_task(frame: FrameType | None) -> bool:
    """Whether ``frame`` is inside a task dask's scheduler hands a worker."""
    from dask.local import execute_task

    code = execute_task.__code__
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def _ancestors(pending: dict[str, Any], wanted: list[str]) -> set[str]:
    """The pending keys ``wanted`` depends on, themselves included."""
    seen: set[str] = set()
    stack = list(wanted)
    while stack:
        key = stack.pop()
        if key in seen or key not in pending:
            continue
        seen.add(key)
        stack.extend(pending[key].dependencies)
    return seen
