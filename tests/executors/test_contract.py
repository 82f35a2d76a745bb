"""The executor contract: what the engine hands an executor is a declared ``Runnable``
(its task, its worker-loss hook), and executors use nothing else of it; dask's private
task-spec module is imported in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from headrace import task
from headrace.engine import state as s
from headrace.engine.chunk_runner import ChunkRunner
from headrace.engine.contracts import Runnable, task_of
from headrace.engine.task_runner import TaskRunner

EXECUTORS = Path(__file__).resolve().parents[2] / "src" / "headrace" / "executors"


@task
def double(x: int) -> int:
    return 2 * x


def test_task_and_chunk_runners_are_runnables() -> None:
    runner = TaskRunner(double)
    chunk = ChunkRunner(runner, ())
    for runnable in (runner, chunk):
        assert isinstance(runnable, Runnable)
        assert runnable.task is double and task_of(runnable) is double
    assert task_of(len) is None


def test_a_runnable_is_called_as_is_and_answers_for_lost_workers() -> None:
    runner = TaskRunner(double)
    assert runner({}, None, {}, None, {"x": 3}).result == 6
    lost = runner.on_worker_lost(RuntimeError("gone"), {}, None, {}, 4)
    assert isinstance(lost, s.Failed) and "double[4]" in str(lost.message)
    chunk = ChunkRunner(runner, ())
    states = chunk.on_worker_lost(RuntimeError("gone"), 0, 2)
    assert [type(x) for x in states] == [s.Failed, s.Failed]


def test_dask_names_calls_after_the_task_and_asks_the_runnable_when_workers_are_lost() -> None:
    pytest.importorskip("distributed")
    from headrace.executors.dask_distributed import Call, _lost_value
    from headrace.executors.errors import WorkerLostError
    from headrace.executors.graph import label_of

    runner = TaskRunner(double)
    assert label_of(runner) == "double"
    assert label_of(len) == "len"
    error = WorkerLostError("died")
    lost = _lost_value(Call(runner, (None, None, {}, 1)), error, "k")
    assert isinstance(lost, s.Failed) and "double[1]" in str(lost.message)
    with pytest.raises(WorkerLostError, match="call 'k'"):
        _lost_value(Call(len, ([],)), error, "k")


def test_executors_use_no_undeclared_attributes_and_one_door_to_dask_internals() -> None:
    private_dask = re.compile(r"^\s*(from|import) dask\._", re.M)
    for path in EXECUTORS.glob("*.py"):
        text = path.read_text()
        assert "__self__" not in text, path.name
        if path.name != "_dask.py":
            assert not private_dask.search(text), path.name
