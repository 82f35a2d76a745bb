"""The cyclic garbage collector is paused while a flow is built and while the engine
expands a map, and on again after -- also when building fails (issue 16)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from headrace import Flow, flatten, task
from headrace.core import gc_pause
from headrace.core.edge import Edge
from headrace.core.errors import EdgeError


@task
def inc(x: int) -> int:
    return x + 1


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def nested(n: int) -> list[list[int]]:
    return [[i, i] for i in range(n)]


@task
def collector_on(x: int) -> bool:
    return gc.isenabled()


@pytest.fixture(autouse=True)
def collector_on_around() -> Iterator[None]:
    gc.enable()
    yield
    assert gc_pause._depth == 0 and not gc_pause._lifts  # no pause left open
    gc.enable()


def test_the_collector_is_paused_inside_with_flow_and_on_after() -> None:
    with Flow("f"):
        assert not gc.isenabled() and gc_pause.is_paused()
        inc(1)
    assert gc.isenabled() and not gc_pause.is_paused()


def test_the_collector_is_on_again_after_a_block_that_raises() -> None:
    with pytest.raises(TypeError), Flow("f"):
        inc(1)
        inc(nope=2)  # type: ignore[call-arg]
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), Flow("g"):
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_flow_construction_pauses_it_and_resumes_even_on_error() -> None:
    seen: list[bool] = []

    class Watching(list[Edge]):
        def __iter__(self) -> Iterator[Edge]:
            seen.append(gc.isenabled())
            return super().__iter__()

    a, b = inc.copy(), inc.copy()
    Flow("f", tasks=[a, b], edges=Watching([Edge(a, b, "x")]))
    assert seen == [False] and gc.isenabled()
    with pytest.raises(EdgeError):
        Flow("g", tasks=[a, b], edges=[Edge(a, b, "no_such_argument")])
    assert gc.isenabled()


def test_nested_blocks_resume_only_when_the_outermost_ends() -> None:
    with Flow("outer"):
        with Flow("inner"):
            inc(1)
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_user_turned_off_stays_off() -> None:
    gc.disable()
    with Flow("f"):
        inc(1)
    assert not gc.isenabled()
    with gc_pause.lifted():
        assert not gc.isenabled()


def test_a_run_inside_its_with_block_runs_with_the_collector_on() -> None:
    with Flow("f") as flow:
        out = collector_on(inc(1))
        state = flow.run()
        assert not gc.isenabled()  # paused again for the rest of the block
    assert state.result[out].result is True
    assert gc.isenabled()


def test_a_map_expansion_pauses_it_and_leaves_it_on() -> None:
    import headrace.engine.mapping as mapping

    seen: list[bool] = []
    original = mapping.map_items

    def watching(*args: object) -> object:
        seen.append(gc.isenabled())
        return original(*args)  # type: ignore[arg-type]

    with Flow("f") as flow:
        out = collector_on.map(flatten(nested(2)))
    mp = pytest.MonkeyPatch()
    mp.setattr(mapping, "map_items", watching)
    try:
        from headrace.executors import LocalDaskExecutor

        state = flow.run(executor=LocalDaskExecutor("threads", num_workers=2))
    finally:
        mp.undo()
    assert state.is_successful()
    assert seen == [False]  # a state per child built with the collector paused
    assert state.result[out].result == [True] * 4  # the children run with it on
    assert gc.isenabled()


def test_pauses_are_counted() -> None:
    gc_pause.pause()
    gc_pause.pause()
    gc_pause.resume()
    assert not gc.isenabled()
    gc_pause.resume()
    assert gc.isenabled()
    gc_pause.resume()  # one too many: ignored
    assert gc.isenabled() and gc_pause._depth == 0
