"""DaskExecutor on real dask.distributed clusters on 127.0.0.1: joining an address or
starting a temporary cluster, cluster_class by name, shipping a mapped task's code once,
depth-first chained maps, releasing results, and surviving (or reporting) dead workers."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import LocalCluster

from headrace import Flow, task, unmapped
from headrace.engine import state as s
from headrace.executors import DaskExecutor
from headrace.executors.errors import ClusterClassError, ExecutorConfigError

pytestmark = [
    pytest.mark.dask,
    pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning"),
]

LOOPBACK = {"host": "127.0.0.1", "dashboard_address": None}


def mark(path: str, text: str = "x") -> None:
    with open(path, "a") as fh:
        fh.write(text + "\n")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def double(x: int) -> int:
    return 2 * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


def small_flow() -> tuple[Flow, Any]:
    with Flow("small") as flow:
        result = total(double.map(numbers(4)))
    return flow, result


def scheduler_task_count(executor_or_cluster: Any) -> int:
    return len(executor_or_cluster.scheduler.tasks)


# ---- where it runs -------------------------------------------------------------------


def test_joins_a_running_cluster_and_leaves_it_running(dask_cluster: Any) -> None:
    flow, result = small_flow()
    state = flow.run(executor=DaskExecutor(address=dask_cluster.scheduler_address))
    assert state.is_successful() and state.result[result].result == 12
    assert len(dask_cluster.scheduler.workers) == 2
    deadline = time.monotonic() + 30
    while scheduler_task_count(dask_cluster) and time.monotonic() < deadline:
        time.sleep(0.05)  # the client's release messages are asynchronous
    assert scheduler_task_count(dask_cluster) == 0, "results were not released"


class RecordingCluster(LocalCluster):
    """A LocalCluster that remembers its instances, to see them closed afterwards."""

    made: list[LocalCluster] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        RecordingCluster.made.append(self)


@pytest.mark.parametrize(
    "cluster_class",
    [
        None,
        RecordingCluster,
        "executors.test_dask_distributed.RecordingCluster",
        "distributed:LocalCluster",
    ],
)
def test_starts_a_temporary_cluster_and_closes_it(cluster_class: Any) -> None:
    RecordingCluster.made.clear()
    executor = DaskExecutor(
        cluster_class=cluster_class,
        cluster_kwargs={
            "n_workers": 1,
            "threads_per_worker": 2,
            "processes": False,
            "protocol": "tcp://",
            **LOOPBACK,
        },
    )
    seen: list[Any] = []
    flow, result = small_flow()
    with executor.start():
        seen.append(executor.cluster)
        assert executor.cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    state = flow.run(executor=executor)
    assert state.result[result].result == 12
    assert executor.cluster is None and executor.client is None
    assert seen[0].status.name == "closed"
    if cluster_class is not None and "Recording" in str(cluster_class):
        assert len(RecordingCluster.made) == 2
        assert all(c.status.name == "closed" for c in RecordingCluster.made)


def test_adaptive_temporary_cluster() -> None:
    executor = DaskExecutor(
        cluster_kwargs={"n_workers": 0, "processes": False, "protocol": "tcp://", **LOOPBACK},
        adapt_kwargs={"minimum": 1, "maximum": 1},
    )
    flow, result = small_flow()
    assert flow.run(executor=executor).result[result].result == 12


def test_bad_settings_name_the_culprit() -> None:
    with pytest.raises(ExecutorConfigError, match=r"DaskExecutor: chunk_size.*0"):
        DaskExecutor(chunk_size=0)
    with pytest.raises(ExecutorConfigError, match="cluster_class"):
        DaskExecutor(address="tcp://127.0.0.1:1", cluster_class=LocalCluster)
    with pytest.raises(ClusterClassError, match="42"):
        DaskExecutor(cluster_class=42)  # type: ignore[arg-type]
    executor = DaskExecutor(cluster_class="no_such_module.Cluster")
    with pytest.raises(ClusterClassError, match=r"no_such_module\.Cluster"), executor.start():
        pass
    with (
        pytest.raises(ClusterClassError, match="not a class"),
        DaskExecutor(cluster_class="os.path:join").start(),
    ):
        pass


# ---- how it uses the cluster ---------------------------------------------------------


class CountedCode:
    """A callable that appends a line to a file each time it is unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (_unpickled, (self.path,))

    def __call__(self, x: int) -> int:
        return x + 1


def _unpickled(path: str) -> CountedCode:
    mark(path)
    return CountedCode(path)


def test_mapped_code_is_shipped_once_not_per_child(dask_cluster: Any, tmp_path: Path) -> None:
    counter = tmp_path / "unpickled"
    executor = DaskExecutor(address=dask_cluster.scheduler_address)
    with executor.start():
        futures = executor.submit_many(CountedCode(str(counter)), [(i,) for i in range(120)])
        assert executor.wait(futures) == list(range(1, 121))
    # a few times on the scheduler (it reads the graph) and on each of the 2 workers -- a
    # handful, where code sent with every child would be unpickled 120 times
    assert 1 <= len(lines(counter)) <= 8, lines(counter)


def test_a_big_map_reaches_the_cluster_in_two_chunks_per_worker_thread(
    dask_cluster: Any,
) -> None:
    from distributed import Client, get_task_stream

    with Flow("big") as flow:
        doubled = double.map(numbers(2000))
        result = total(doubled)
    executor = DaskExecutor(address=dask_cluster.scheduler_address)
    with Client(dask_cluster, set_as_default=False) as client, get_task_stream(client) as ts:
        state = flow.run(executor=executor)
    assert state.result[result].result == 2 * sum(range(2000))
    assert len(state.result[doubled].map_states) == 2000
    ran = [d["key"] for d in ts.data if str(d["key"]).startswith("double-")]
    assert len(ran) == 4, ran  # 2 workers x 1 thread x 2 chunks, not 2000 dask tasks
    with executor.start():
        assert executor.map_chunk_count(2000) == 4
    assert DaskExecutor(address="unused", chunk_size=300).map_chunk_count(2000) == 7


def stamp(path: str, label: str, x: int) -> int:
    mark(path, f"{label} {x}")
    time.sleep(0.02)
    return x


def test_chained_maps_run_depth_first(dask_cluster: Any, tmp_path: Path) -> None:
    log = tmp_path / "order"
    executor = DaskExecutor(address=dask_cluster.scheduler_address)
    n = 30
    with executor.start():
        first = executor.submit_many(stamp, [(str(log), "first", i) for i in range(n)])
        second = executor.submit_many(stamp, [(str(log), "second", f) for f in first])
        assert executor.wait(second) == list(range(n))
    order = lines(log)
    first_second = next(i for i, line in enumerate(order) if line.startswith("second"))
    last_first = max(i for i, line in enumerate(order) if line.startswith("first"))
    assert first_second < last_first, "the second map waited for the whole first map"


# ---- worker loss ---------------------------------------------------------------------


@task
def slow(x: int, marks: str) -> int:
    mark(marks, f"start {x}")
    time.sleep(0.5)
    return x


@task(max_retries=1, retry_delay=0)
def fails_once(xs: list[int], marks: str) -> int:
    mark(marks, "attempt")
    if lines(Path(marks)).count("attempt") == 1:
        raise RuntimeError("first attempt fails")
    return sum(xs)


def test_a_worker_killed_mid_flow_does_not_fail_the_flow(tmp_path: Path) -> None:
    marks = str(tmp_path / "marks")
    executor = DaskExecutor(
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True, **LOOPBACK}
    )
    with Flow("survivor") as flow:
        result = fails_once(slow.map(list(range(8)), marks=unmapped(marks)), marks=marks)
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if executor.client is not None and len(lines(Path(marks))) >= 2:
                pids = executor.client.run(os.getpid)
                pid = next(iter(pids.values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    state = flow.run(executor=executor)
    killer.join()
    assert killed, "no worker was killed"
    assert state.is_successful(), state.result[result]
    assert state.result[result].result == sum(range(8))
    starts = [line for line in lines(Path(marks)) if line.startswith("start")]
    assert len(starts) > 8, "the killed worker's task did not run again elsewhere"
    assert lines(Path(marks)).count("attempt") == 2  # the retry still happened


@task
def kills_its_worker(x: int) -> int:
    from distributed import get_worker

    get_worker()  # raises outside a dask worker: never kill the test process
    os._exit(1)


@task
def after(x: int) -> int:
    return x


def test_a_task_whose_worker_keeps_dying_fails_with_a_message_saying_so() -> None:
    executor = DaskExecutor(
        cluster_kwargs={"n_workers": 1, "threads_per_worker": 1, "processes": True, **LOOPBACK}
    )
    with Flow("doomed") as flow:
        doomed = kills_its_worker(1)
        downstream = after(doomed)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        state = flow.run(executor=executor)
    assert state.is_failed()
    lost = state.result[doomed]
    assert type(lost) is s.Failed
    assert "kills_its_worker" in lost.message and "died" in lost.message, lost.message
    assert isinstance(state.result[downstream], s.TriggerFailed)


def test_a_mapped_chunk_whose_worker_keeps_dying_fails_each_of_its_children() -> None:
    executor = DaskExecutor(
        cluster_kwargs={"n_workers": 1, "threads_per_worker": 1, "processes": True, **LOOPBACK},
        chunk_size=2,
    )
    with Flow("doomed-map") as flow:
        doomed = kills_its_worker.map([1, 2, 3])
        downstream = after.map(doomed)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        state = flow.run(executor=executor)
    assert state.is_failed()
    children = state.result[doomed].map_states
    assert [type(c) for c in children] == [s.Failed] * 3
    for i, child in enumerate(children):
        assert f"kills_its_worker[{i}]" in child.message and "died" in child.message
    assert all(isinstance(c, s.TriggerFailed) for c in state.result[downstream].map_states)


# what block_until shares with the test: it runs on an in-process worker, so it sees these
_BLOCK = {"flag": threading.Event(), "started": threading.Event(), "threads": []}


def block_until_released() -> str:
    """Runs on an in-process worker: says it started, then blocks until released (at most
    20 s)."""
    _BLOCK["threads"].append(threading.current_thread())
    _BLOCK["started"].set()
    released = _BLOCK["flag"].wait(20)
    return "released" if released else "gave up"


def test_leaving_with_an_exception_does_not_wait_for_a_temporary_clusters_threads() -> None:
    """A stop (a BaseException while the run is inside the executor) closes the temporary
    cluster at once: an in-process worker would otherwise wait up to 30 s for its busy
    thread, so the blocked task would be over (after its 20 s) before the cluster closed."""

    class Stop(BaseException):
        pass

    flag, started, threads = _BLOCK["flag"], _BLOCK["started"], _BLOCK["threads"]
    flag.clear(), started.clear(), threads.clear()
    executor = DaskExecutor(
        cluster_kwargs={
            "n_workers": 1,
            "threads_per_worker": 1,
            "processes": False,
            "protocol": "tcp://",
            **LOOPBACK,
        }
    )
    try:
        with pytest.raises(Stop), executor.start():
            cluster = executor.cluster
            executor.client.submit(block_until_released, pure=False)
            assert started.wait(60)
            raise Stop()
        assert executor.cluster is None and cluster.status.name == "closed"
        assert threads[0].is_alive()  # not waited for: the task still blocks, unobserved
    finally:
        flag.set()
