"""Resource managers: setup before the block's tasks, cleanup after them even when they
fail, cleanup skipped when setup did not run; on every executor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.engine.resources import ScratchDir

from headrace import Flow, Parameter, task
from headrace.core.errors import NoActiveFlowError
from headrace.engine import state as s
from headrace.tasks.core.resource_manager import (
    ResourceCleanupTask,
    ResourceInitTask,
    ResourceSetupTask,
)


@task
def write(directory: str, name: str) -> str:
    (Path(directory) / name).write_text(name)
    return name


@task
def explode(directory: str) -> None:
    raise RuntimeError(f"cannot use {directory}")


@task
def after(names: list[str]) -> int:
    return len(names)


def test_setup_runs_before_and_cleanup_after_the_block(executor: Any, tmp_path: Path) -> None:
    with Flow("resource") as flow:
        root = Parameter("root")
        with ScratchDir(root) as scratch:
            a = write(scratch, "a")
            b = write(scratch, "b")
        total = after([a, b])
    state = flow.run(root=str(tmp_path), executor=executor)
    assert state.is_successful()
    assert (tmp_path / "cleaned").read_text() == "a,b"  # cleanup saw both files
    assert not (tmp_path / "scratch").exists()
    assert state.result[total].result == 2
    kinds = {type(t) for t in flow.tasks}
    assert {ResourceInitTask, ResourceSetupTask, ResourceCleanupTask} <= kinds


def test_cleanup_runs_when_a_task_inside_fails_and_the_flow_fails(
    executor: Any, tmp_path: Path
) -> None:
    with Flow("failing inside") as flow, ScratchDir(str(tmp_path)) as scratch:
        ok = write(scratch, "kept")
        bad = explode(scratch)
    state = flow.run(executor=executor)
    assert state.result[bad].is_failed()
    assert state.result[ok].is_successful()
    cleanup = next(t for t in flow.tasks if isinstance(t, ResourceCleanupTask))
    assert type(state.result[cleanup]) is s.Success
    assert (tmp_path / "cleaned").read_text() == "kept"
    assert state.is_failed()  # the cleanup's success does not hide the failure


def test_cleanup_is_skipped_when_setup_did_not_run(tmp_path: Path) -> None:
    with Flow("no setup") as flow, ScratchDir(str(tmp_path), fail_setup=True) as scratch:
        inside = write(scratch, "never")
    state = flow.run()
    setup = next(t for t in flow.tasks if isinstance(t, ResourceSetupTask))
    cleanup = next(t for t in flow.tasks if isinstance(t, ResourceCleanupTask))
    assert state.result[setup].is_failed()
    assert isinstance(state.result[inside], s.TriggerFailed)
    assert type(state.result[cleanup]) is s.Skipped
    assert not (tmp_path / "cleaned").exists()
    assert state.is_failed()


def test_tasks_that_do_not_take_the_resource_still_wait_for_setup(tmp_path: Path) -> None:
    with Flow("ordering") as flow, ScratchDir(str(tmp_path)):
        plain = after([1, 2, 3])
    setup = next(t for t in flow.tasks if isinstance(t, ResourceSetupTask))
    cleanup = next(t for t in flow.tasks if isinstance(t, ResourceCleanupTask))
    assert setup in flow.upstream_tasks(plain)
    assert cleanup in flow.downstream_tasks(plain)
    assert flow.run().is_successful()


def test_bad_uses_are_refused_naming_the_manager(tmp_path: Path) -> None:
    with pytest.raises(NoActiveFlowError, match="ScratchDir"), ScratchDir(str(tmp_path)):
        pass
    with pytest.raises(TypeError, match="ScratchDir"):
        ScratchDir(str(tmp_path), no_such_argument=1)
    from headrace.tasks.core.resource_manager import resource_manager

    class NoCleanup:
        def setup(self) -> None: ...

    with pytest.raises(TypeError, match=r"NoCleanup.*cleanup"):
        resource_manager(NoCleanup)
