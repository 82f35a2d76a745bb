"""Looping tasks: ``LOOP`` ends an iteration ``Looped`` and the task runs again with
``context.task_loop_result`` / ``task_loop_count``, on every executor, mapped, with
retries, checkpointing and a restart from the last iteration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from tests.engine.helpers import bump, count

from headrace import Flow, context, task
from headrace.engine import state as s
from headrace.engine.flow_runner import FlowRunner
from headrace.engine.results.local import LocalResult
from headrace.engine.signals import LOOP
from headrace.engine.transitions import is_allowed


@task
def paginate(pages: int) -> list[Any]:
    """Collects one "page" per iteration: the loop result carries what was read so far."""
    so_far = context.get("task_loop_result", [])
    page = context.task_loop_count
    got = [*so_far, page]
    if page >= pages:
        return got
    raise LOOP(f"read page {page}", result=got)


@task
def count_to(n: int) -> tuple[int, Any]:
    done = context.get("task_loop_result", 0) + 1
    if done < n:
        raise LOOP(result=done)
    return done, context.task_loop_count


@task(max_retries=1, retry_delay=0)
def flaky_loop(marks: str) -> int:
    """Fails the first attempt of iteration 2 only; the retry continues that iteration."""
    loop = context.task_loop_count
    if loop == 2 and context.task_run_count == 1:
        bump(marks)
        raise RuntimeError("transient")
    if loop < 3:
        raise LOOP(result=loop)
    return context.task_loop_result * 100 + context.task_run_count


@task
def breaks_at_three(marks: str) -> int:
    """Counts each call in ``marks``; iteration 3 fails unless a ``fixed`` file is there."""
    bump(marks)
    loop = context.task_loop_count
    if loop == 3 and not Path(marks + ".fixed").exists():
        raise RuntimeError("page 3 is broken")
    if loop < 4:
        raise LOOP(result=context.get("task_loop_result", 0) + loop)
    return context.task_loop_result + loop


def test_a_task_loops_until_it_returns(executor: Any) -> None:
    with Flow("loop") as flow:
        pages = paginate(4)
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert state.result[pages].result == [1, 2, 3, 4]


def test_each_iteration_is_a_state_the_handlers_see() -> None:
    seen: list[tuple[str, Any]] = []

    def watch(task: Any, old: s.State, new: s.State) -> None:
        seen.append((type(new).__name__, getattr(new, "loop_count", None)))

    with Flow("loop states") as flow:
        counted = count_to(3, task_args={"state_handlers": [watch]})
    state = flow.run()
    assert state.result[counted].result == (3, 3)
    assert seen == [
        ("Running", None),
        ("Looped", 1),
        ("Running", None),
        ("Looped", 2),
        ("Running", None),
        ("Success", None),
    ]


def test_mapped_children_loop_on_their_own(executor: Any) -> None:
    with Flow("mapped loop") as flow:
        counted = count_to.map([1, 2, 3])
    state = flow.run(executor=executor)
    assert state.result[counted].result == [(1, 1), (2, 2), (3, 3)]


def test_a_retry_continues_the_same_iteration(executor: Any, tmp_path: Path) -> None:
    marks = str(tmp_path / "marks")
    with Flow("retry in loop") as flow:
        result = flaky_loop(marks)
    state = flow.run(executor=executor)
    assert count(marks) == 1
    # iteration 3 read iteration 2's result (2), on its first attempt
    assert state.result[result].result == 201


def test_each_iteration_is_checkpointed_at_its_own_location(executor: Any, tmp_path: Path) -> None:
    where = LocalResult(dir=tmp_path, location="page-{task_loop_count}.pkl")
    with Flow("checkpointed loop") as flow:
        pages = paginate(3, task_args={"checkpoint": True, "result": where})
    state = flow.run(executor=executor)
    assert state.result[pages].result == [1, 2, 3]
    written = {p.name: cloudpickle.loads(p.read_bytes()) for p in tmp_path.glob("page-*")}
    assert written == {"page-1.pkl": [1], "page-2.pkl": [1, 2], "page-3.pkl": [1, 2, 3]}


def test_a_restart_from_a_looped_state_resumes_at_the_next_iteration(
    executor: Any, tmp_path: Path
) -> None:
    marks = str(tmp_path / "marks")
    with Flow("restart loop") as flow:
        total = breaks_at_three(marks)
    first = FlowRunner(flow=flow).run(executor=executor)
    assert first.result[total].is_failed()
    assert count(marks) == 3
    # the run is restarted from the last iteration that finished (iteration 2, result 3)
    Path(marks + ".fixed").touch()
    second = flow.run(task_states={total: s.Looped(result=3, loop_count=2)}, executor=executor)
    assert second.is_successful()
    assert count(marks) == 5  # iterations 3 and 4 only
    assert second.result[total].result == 3 + 3 + 4


def test_looped_transitions() -> None:
    assert is_allowed("Running", "Looped")
    assert is_allowed("Looped", "Running")
    assert is_allowed("Looped", "Pending")  # a restart
    assert not is_allowed("Looped", "Success")
    assert not is_allowed("Pending", "Looped")


def test_loop_is_a_signal_not_an_exception() -> None:
    assert not issubclass(LOOP, Exception)
    signal = LOOP("again", result=5)
    assert isinstance(signal.state, s.Looped)
    assert signal.state.result == 5


@pytest.mark.parametrize("kind", ["Looped"])
def test_looped_is_a_known_state_kind(kind: str) -> None:
    assert s.state_class(kind) is s.Looped
    assert s.Looped in s.KINDS


def test_the_server_takes_a_loop_and_a_looped_state_travels_with_its_result(
    tmp_path: Path,
) -> None:
    from headrace.client.backend.states import state_from_json, state_to_json
    from headrace.server.domain.states import transition_problem

    assert transition_problem("Running", "Looped") is None
    assert transition_problem("Looped", "Running") is None  # not final on the server
    written = LocalResult(dir=tmp_path, location="it-2.pkl").write([1, 2])
    doc = state_to_json(s.Looped("page 2", [1, 2], loop_count=2, persisted=written))
    back = state_from_json(doc["name"], doc["message"], doc["serialized"])
    assert isinstance(back, s.Looped)
    assert (back.loop_count, back.result) == (2, [1, 2])
    unpersisted = state_to_json(s.Looped("page 2", [1, 2], loop_count=2))
    assert type(state_from_json("Looped", None, unpersisted["serialized"])) is s.Pending
