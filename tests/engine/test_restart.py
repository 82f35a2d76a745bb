"""Restart from failure and resume after a pause: ``flow.run(task_states=...)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.engine.helpers import bump, count

from headrace import Flow, Parameter, context, flatten, task, unmapped
from headrace.engine import state as s
from headrace.engine.signals import PAUSE
from headrace.triggers import manual_only


@task
def extract(path: str) -> list[int]:
    bump(path)
    return [1, 2, 3]


@task
def transform(rows: list[int], path: str, broken_flag: str) -> list[int]:
    bump(path)
    if Path(broken_flag).exists():
        raise RuntimeError("transform is broken")
    return [r * 10 for r in rows]


@task
def load(rows: list[int], path: str) -> int:
    bump(path)
    return sum(rows)


def etl(tmp_path: Path) -> tuple[Flow, dict[str, Any], dict[str, str]]:
    paths = {n: str(tmp_path / n) for n in ("extract", "transform", "load", "broken")}
    with Flow("etl") as flow:
        e = extract(paths["extract"])
        t = transform(e, paths["transform"], paths["broken"])
        ld = load(t, paths["load"])
    return flow, {"e": e, "t": t, "l": ld}, paths


def test_restart_reruns_only_what_did_not_succeed(executor: Any, tmp_path: Path) -> None:
    flow, tasks, paths = etl(tmp_path)
    Path(paths["broken"]).write_text("yes")
    failed = flow.run(executor=executor)
    assert failed.is_failed()
    assert type(failed.result[tasks["t"]]) is s.Failed
    assert type(failed.result[tasks["l"]]) is s.TriggerFailed
    Path(paths["broken"]).unlink()  # fix the cause, then restart with the old states
    again = flow.run(task_states=failed.result, executor=executor)
    assert again.is_successful()
    assert again.result[tasks["l"]].result == 60
    assert again.result[tasks["e"]] is failed.result[tasks["e"]]  # reused, not re-run
    # extract ran once; transform failed then ran again; load first ran on the restart
    assert (count(paths["extract"]), count(paths["transform"]), count(paths["load"])) == (1, 2, 1)


@task
def double(x: int, path: str, broken_flag: str) -> int:
    bump(path)
    if x == 2 and Path(broken_flag).exists():
        raise ValueError("two is broken")
    return x * 2


def test_restart_of_a_mapped_task_reruns_only_failed_children(
    executor: Any, tmp_path: Path
) -> None:
    path, broken = str(tmp_path / "calls"), str(tmp_path / "broken")
    Path(broken).write_text("yes")
    with Flow("map-restart") as flow:
        m = double.map([1, 2, 3], path=[path] * 3, broken_flag=[broken] * 3)
    failed = flow.run(executor=executor)
    assert [type(c) for c in failed.result[m].map_states] == [s.Success, s.Failed, s.Success]
    Path(broken).unlink()
    again = flow.run(task_states=failed.result, executor=executor)
    assert again.result[m].result == [2, 4, 6]
    assert count(path) == 4  # three first time, then only the failed child


@task
def gated(path: str) -> str:
    bump(path)
    return "approved work done"


@task
def first_step() -> int:
    return 1


def test_manual_only_pauses_until_resumed(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("approval") as flow:
        before = first_step()
        g = gated(path, upstream_tasks=[before], task_args={"trigger": manual_only})
    paused = flow.run(executor=executor)
    assert type(paused.result[g]) is s.Paused
    assert not paused.is_finished()  # waiting for approval
    assert count(path) == 0
    # still paused when restarted without approval
    still = flow.run(task_states=paused.result, executor=executor)
    assert type(still.result[g]) is s.Paused and count(path) == 0
    resumed = flow.run(task_states={**paused.result, g: s.Resume()}, executor=executor)
    assert resumed.is_successful()
    assert resumed.result[g].result == "approved work done"
    assert count(path) == 1


def test_resume_alone_is_enough(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("approval") as flow:
        g = gated(path, task_args={"trigger": manual_only})
    flow.run(executor=executor)
    assert flow.run(task_states={g: s.Resume()}, executor=executor).result[g].is_successful()


def test_a_successful_parameter_state_is_reused(executor: Any, tmp_path: Path) -> None:
    with Flow("p") as flow:
        p = Parameter("p", default=1)
        d = double(p, str(tmp_path / "c"), str(tmp_path / "none"))
    first = flow.run(executor=executor)
    # a successful parameter state is reused as it was: its value does not change
    again = flow.run(p=5, task_states={p: first.result[p]}, executor=executor)
    assert again.result[d].result == 2


@task
def asks_approval(path: str) -> str:
    bump(path)
    if not context.get("resume"):
        raise PAUSE("needs a human")
    return "approved"


@task
def follows(x: str) -> str:
    return x + "!"


def test_pause_signal_and_resume_with_downstream(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("pause-signal") as flow:
        a = asks_approval(path)
        f = follows(a)
    paused = flow.run(executor=executor)
    assert type(paused.result[a]) is s.Paused and paused.result[a].message == "needs a human"
    assert type(paused.result[f]) is s.Pending  # waits for its upstream
    assert type(paused) is s.Running  # the flow waits too
    resumed = flow.run(task_states={**paused.result, a: s.Resume()}, executor=executor)
    assert resumed.is_successful()
    assert resumed.result[f].result == "approved!"
    assert count(path) == 2


@task
def counted_square(x: int, folder: str) -> int:
    bump(Path(folder) / f"square{x}")
    return x * x


@task
def counted_plus(x: int, folder: str) -> int:
    bump(Path(folder) / f"plus{x}")
    return x + 1


@task
def up_to(n: int) -> list[int]:
    return list(range(n))


@task
def add_up(values: list[int]) -> int:
    return sum(values)


def _runs(folder: Path, prefix: str, n: int) -> list[int]:
    return [count(folder / f"{prefix}{i}") for i in range(n)]


def test_an_interrupted_map_is_expanded_again_and_its_reduce_sees_every_child(
    executor: Any, tmp_path: Path
) -> None:
    """An interrupted run's ``Mapped`` lists only the children that reported (here 0-3 of
    10): the restart runs the other six and the reduce adds all ten."""
    with Flow("interrupted-map") as flow:
        squares = counted_square.map(up_to(10), unmapped(str(tmp_path)))
        total = add_up(squares)
    given = s.Mapped(map_states=[s.Success(result=x * x) for x in range(4)])
    state = flow.run(task_states={squares: given}, executor=executor)
    assert state.is_successful()
    assert state.result[total].result == sum(x * x for x in range(10))
    assert len(state.result[squares].map_states) == 10
    assert _runs(tmp_path, "square", 10) == [0] * 4 + [1] * 6


def test_interrupted_chained_maps_rerun_only_the_missing_children(
    executor: Any, tmp_path: Path
) -> None:
    with Flow("interrupted-chain") as flow:
        squares = counted_square.map(up_to(8), unmapped(str(tmp_path)))
        plus = counted_plus.map(squares, unmapped(str(tmp_path)))
        total = add_up(plus)
    given = {
        squares: s.Mapped(
            map_states=[s.Success(result=x * x) for x in range(5)] + [s.Failed("lost")]
        ),
        plus: s.Mapped(map_states=[s.Success(result=x * x + 1) for x in range(2)]),
    }
    if hasattr(executor, "chunk_size"):  # chunks of 3: chunk bounds cut through the given
        executor.chunk_size = 3
    state = flow.run(task_states=given, executor=executor)
    assert state.result[total].result == sum(x * x + 1 for x in range(8))
    assert _runs(tmp_path, "square", 8) == [0] * 5 + [1] * 3
    # plus's children are counted by their input (a square): 0, 1 were reused
    assert [count(tmp_path / f"plus{x * x}") for x in range(8)] == [0, 0] + [1] * 6


def test_an_interrupted_map_over_a_flattened_map_is_expanded_again(
    executor: Any, tmp_path: Path
) -> None:
    with Flow("interrupted-flatten") as flow:
        ranges = up_to.map([1, 2, 3])  # [0], [0, 1], [0, 1, 2]
        squares = counted_square.map(flatten(ranges), unmapped(str(tmp_path)))
        total = add_up(squares)
    given = {
        ranges: s.Mapped(map_states=[s.Success(result=[0]), s.Success(result=[0, 1])]),
        squares: s.Mapped(map_states=[s.Success(result=0), s.Pending(), s.Success(result=1)]),
    }
    state = flow.run(task_states=given, executor=executor)
    assert state.result[squares].result == [0, 0, 1, 0, 1, 4]
    assert state.result[total].result == 6
    # children 1, 3, 4 and 5 ran: their inputs were 0, 0, 1 and 2
    assert (count(tmp_path / "square0"), count(tmp_path / "square1")) == (2, 1)
    assert count(tmp_path / "square2") == 1


def test_reused_children_read_their_persisted_results_where_the_reduce_runs(
    executor: Any, tmp_path: Path
) -> None:
    """A restart's children come back with their results not read yet (``NOT_LOADED``,
    read from where they were persisted on first use): the reduce reads them in whichever
    process it runs, and the children that are missing run."""
    from headrace.engine.results.local import LocalResult
    from headrace.engine.state.base import NOT_LOADED

    results = LocalResult(dir=str(tmp_path / "results"), location="child-{map_index}.pickle")
    given = s.Mapped(
        map_states=[
            s.Success("earlier", NOT_LOADED, persisted=results.write(x * x, map_index=x))
            for x in range(3)
        ]
    )
    with Flow("persisted-children") as flow:
        squares = counted_square.map(up_to(5), unmapped(str(tmp_path)))
        total = add_up(squares)
    state = flow.run(task_states={squares: given}, executor=executor)
    assert state.result[total].result == sum(x * x for x in range(5))
    assert _runs(tmp_path, "square", 5) == [0, 0, 0, 1, 1]
