"""LocalDaskExecutor specifics: its settings, cloudpickled closures on worker processes,
real parallelism on threads, and waiting early computing only what is needed."""

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
