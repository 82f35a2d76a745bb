"""LocalDaskExecutor specifics: its settings, cloudpickled closures on worker processes,
real parallelism on threads, waiting early computing only what is needed, how maps are
chunked, and worker processes that see the environment of the run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from headrace import Flow, task
from headrace.executors import LocalDaskExecutor
from headrace.executors.errors import ExecutorConfigError


def test_bad_settings_name_the_culprit() -> None:
    with pytest.raises(ExecutorConfigError, match=r"'gpu'.*threads, processes, sync"):
        LocalDaskExecutor("gpu")
    with pytest.raises(ExecutorConfigError, match=r"num_workers.*0"):
        LocalDaskExecutor(num_workers=0)
    assert LocalDaskExecutor("multiprocessing").scheduler == "processes"
    for bad in (0, -1, "3", 2.5, True):
        with pytest.raises(ExecutorConfigError, match=rf"LocalDaskExecutor: chunk_size.*{bad!r}"):
            LocalDaskExecutor(chunk_size=bad)  # type: ignore[arg-type]


def test_maps_split_into_two_chunks_per_worker_or_by_chunk_size() -> None:
    assert LocalDaskExecutor(num_workers=3).map_chunk_count(100) == 6
    assert LocalDaskExecutor(num_workers=3).map_chunk_count(4) == 4  # never more than children
    assert LocalDaskExecutor(num_workers=3).map_chunk_count(0) == 0
    assert LocalDaskExecutor("sync", num_workers=3).map_chunk_count(100) == 2
    assert LocalDaskExecutor(num_workers=3, chunk_size=30).map_chunk_count(100) == 4


def pid_after_nap(x: int) -> int:
    time.sleep(0.3)
    return os.getpid()


def test_process_workers_each_take_chunks() -> None:
    """dask's multiprocessing scheduler batches up to 6 ready tasks into one hand-over by
    default, which would leave all these chunks to one process."""
    with Flow("spread") as flow:
        pids = task(pid_after_nap).map([1, 2, 3, 4])
    state = flow.run(executor=LocalDaskExecutor("processes", num_workers=2, chunk_size=1))
    assert len(set(state.result[pids].result)) == 2


def env_and_config(name: str) -> tuple[str | None, bool]:
    from headrace.configuration import config

    return os.environ.get(name), bool(config.flows.checkpointing)


def test_process_workers_see_the_environment_of_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers are forked from a fork server started by an earlier run; they must still see
    the environment (and the headrace configuration it sets) of the process starting this
    run, as freshly spawned processes would."""
    for value in ("false", "true", "false"):
        monkeypatch.setenv("HEADRACE__FLOWS__CHECKPOINTING", value)
        executor = LocalDaskExecutor("processes", num_workers=1)
        with executor.start():
            got = executor.wait(executor.submit(env_and_config, "HEADRACE__FLOWS__CHECKPOINTING"))
        assert got == (value, value == "true")


def test_processes_run_closures_shipped_with_cloudpickle() -> None:
    offset = 1000  # captured by the closure: pickle alone could not ship it

    with Flow("closures") as flow:
        pids = task(lambda x: (os.getpid(), x + offset), name="closure").map([1, 2, 3])
    state = flow.run(executor=LocalDaskExecutor("processes", num_workers=2))
    assert state.is_successful(), state
    results = state.result[pids].result
    assert [value for _, value in results] == [1001, 1002, 1003]
    assert all(pid != os.getpid() for pid, _ in results)


def record(path: str, x: int) -> int:
    with open(path, "a") as fh:
        fh.write(f"start {x}\n")
    time.sleep(0.1)
    with open(path, "a") as fh:
        fh.write(f"end {x}\n")
    return x


def test_threads_run_tasks_in_parallel(tmp_path: Path) -> None:
    log = tmp_path / "log"
    executor = LocalDaskExecutor("threads", num_workers=4)
    with executor.start():
        assert executor.wait(executor.submit_many(record, [(str(log), i) for i in range(4)])) == [
            0,
            1,
            2,
            3,
        ]
    events = log.read_text().split()[::2]
    assert events[:2] == ["start", "start"], "the second call waited for the first to end"


def touch(path: str) -> str:
    Path(path).write_text("ran")
    return path


def test_waiting_early_runs_only_what_is_needed(tmp_path: Path) -> None:
    unrelated = tmp_path / "unrelated"
    executor = LocalDaskExecutor("sync")
    with executor.start():
        a = executor.submit(int, "2")
        b = executor.submit(pow, a, 3)
        other = executor.submit(touch, str(unrelated))
        assert executor.wait(b) == 8
        assert not unrelated.exists()
        assert executor.wait([other, a]) == [str(unrelated), 2]
    assert unrelated.exists()


def die(x: int) -> int:
    os._exit(3)


def test_a_dead_worker_process_is_an_executor_error_naming_the_executor() -> None:
    from headrace.executors.errors import ExecutorError

    executor = LocalDaskExecutor("processes", num_workers=1)
    with executor.start(), pytest.raises(ExecutorError, match=r"scheduler='processes'.*died"):
        executor.wait(executor.submit(die, 1))


class _Stop(BaseException):
    """Stands for the ``RunCancelled`` a stopped run raises in its main thread."""


def nap_and_say_how_it_ended(folder: str) -> None:
    """Writes its pid, naps 20 s and writes how the nap ended: ``finished``, or the name
    of what interrupted it."""
    (Path(folder) / f"pid-{os.getpid()}").write_text("")
    try:
        time.sleep(20)
    except BaseException as exc:
        (Path(folder) / f"ended-{os.getpid()}").write_text(type(exc).__name__)
        raise
    (Path(folder) / f"ended-{os.getpid()}").write_text("finished")


def _running(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_leaving_with_an_exception_stops_worker_processes_without_waiting(tmp_path: Path) -> None:
    """A stop (a BaseException in the main thread, here from a real signal while the
    executor waits) does not wait for the workers' running tasks: each is interrupted
    with ``RunCancelled`` (so a task runner there ends it Cancelled and reports it), and
    no worker process is left."""
    import signal
    import threading

    def interrupt(signum: int, frame: object) -> None:
        raise _Stop()

    previous = signal.signal(signal.SIGUSR1, interrupt)

    def when_both_nap() -> None:
        while len(list(tmp_path.glob("pid-*"))) < 2:
            time.sleep(0.05)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    executor = LocalDaskExecutor("processes", num_workers=2)
    waker = threading.Thread(target=when_both_nap, daemon=True)
    try:
        with pytest.raises(_Stop), executor.start():
            futures = [executor.submit(nap_and_say_how_it_ended, str(tmp_path)) for _ in "ab"]
            waker.start()
            executor.wait(futures)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    pids = [int(p.name.split("-")[1]) for p in tmp_path.glob("pid-*")]
    assert len(pids) == 2
    assert [p for p in pids if _running(p)] == []
    ended = {p.read_text() for p in tmp_path.glob("ended-*")}
    assert ended == {"RunCancelled"}  # interrupted, neither finished nor killed unaware
    assert executor._pool is None
