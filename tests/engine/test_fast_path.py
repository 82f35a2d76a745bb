"""The task runner's fast path (issue 16): a plain task's run takes the table's plain row
directly. Every flow here runs twice, with the fast path and with it turned off (every
run through the general steps), and must end in the same states, results, messages and
listener calls (timestamps aside)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from headrace import Flow, Parameter, context, flatten, task, unmapped
from headrace.engine import state as s
from headrace.engine import steps
from headrace.engine.flow_runner import FlowRunner
from headrace.engine.settings import RunSettings
from headrace.engine.signals import LOOP, SKIP, RunCancelled
from headrace.engine.task_runner import TaskRunner
from headrace.engine.task_spec import TaskSpec
from headrace.engine.transitions import FOLLOWERS, PLAIN_RUN, Event, target_kind
from headrace.executors import LocalDaskExecutor, LocalExecutor


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def total(xs: list[Any]) -> int:
    return sum(x for x in xs if x is not None)


@task
def fragile(x: int) -> int:
    if x % 4 == 3:
        raise ValueError(f"no {x}")
    return x


@task
def skips_odd(x: int) -> int:
    if x % 2:
        raise SKIP(f"odd {x}")
    return x


@task
def where() -> Any:
    return None


@task
def about(x: int) -> tuple[Any, ...]:
    return (
        x,
        context.get("map_index"),
        context.task_run_count,
        context.task_loop_count,
        context.task_name,
        context.task_slug,
        sorted(k for k in context if k != "parameters"),
    )


@task
def loops(x: int) -> int:
    done = context.get("task_loop_result", 0) + 1
    if done < 3:
        raise LOOP(result=done)
    return x * 10 + done


@task
def length(xs: list[Any]) -> int:
    return len(xs)


@task(max_retries=1, retry_delay=0)
def retried(x: int) -> int:
    return x


@task
def nested(n: int) -> list[list[int]]:
    return [[i, i + 1] for i in range(n)]


def build_map() -> Flow:
    with Flow("map") as flow:
        total(inc.map(numbers(6)))
    return flow


def build_chained() -> Flow:
    with Flow("chained") as flow:
        total(inc.map(inc.map(numbers(5))))
    return flow


def build_unmapped() -> Flow:
    with Flow("unmapped") as flow:
        k = inc(10)
        add.map(numbers(4), unmapped(k))
        add.map(numbers(3), unmapped(5))
    return flow


def build_whole_map() -> Flow:
    with Flow("whole") as flow:
        firsts = inc.map(numbers(3))
        length.map(unmapped(firsts), upstream_tasks=[numbers(2)])
        add.map(numbers(3), inc.map(numbers(3)))
    return flow


def build_failures() -> Flow:
    with Flow("failures") as flow:
        total(inc.map(fragile.map(numbers(8))))
        add.map(numbers(3), unmapped(fragile(3)))  # a shared upstream failed
        add.map(numbers(3), unmapped(skips_odd(1)))  # a shared upstream skipped
    return flow


def build_skips() -> Flow:
    with Flow("skips") as flow:
        total(inc.map(skips_odd.map(numbers(5))))
    return flow


def build_context() -> Flow:
    with Flow("context") as flow:
        about.map(numbers(3))
        about(7)
    return flow


def build_loops() -> Flow:
    with Flow("loops") as flow:
        loops.map(numbers(3))
        loops(5)
    return flow


def build_chain_and_wide() -> Flow:
    with Flow("chain-wide") as flow:
        x: Any = 0
        for _ in range(5):
            x = inc(x)
        total([inc(i) for i in range(5)] + [x])
        p = Parameter("p", default=3)
        retried(inc(p))
    return flow


def build_flattened() -> Flow:
    with Flow("flattened") as flow:
        total(inc.map(flatten(nested(3))))
    return flow


def build_no_items() -> Flow:
    with Flow("no-items") as flow:
        total(inc.map(numbers(0)))
        inc.map(where())  # a result that cannot be mapped over
    return flow


BUILDERS: list[Callable[[], Flow]] = [
    build_map,
    build_chained,
    build_unmapped,
    build_whole_map,
    build_failures,
    build_skips,
    build_context,
    build_loops,
    build_chain_and_wide,
    build_flattened,
    build_no_items,
]


def _describe(state: s.State) -> Any:
    kind = type(state).__name__
    if isinstance(state, s.Mapped):
        return (kind, state.message, [_describe(c) for c in state.map_states])
    result = state.result
    if isinstance(result, BaseException):
        result = repr(result)
    return (kind, state.message, result)


def _run(
    flow: Flow, fast: bool, executor: Any, monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> tuple[Any, dict[Any, list[Any]]]:
    """The flow's final state, every task's state (children's too), and what the listener
    heard for each task run in order, on the fast path or with it off."""
    heard: dict[Any, list[Any]] = {}
    plain_runs = [0]

    def listener(t: Any, index: int | None, old: s.State, new: s.State) -> None:
        heard.setdefault((flow.slugs[t], index), []).append(
            (type(old).__name__, type(new).__name__, new.message)
        )

    original = TaskRunner.run_plain

    def counted(self: TaskRunner, *args: Any) -> s.State:
        plain_runs[0] += 1
        return original(self, *args)

    with monkeypatch.context() as patch:
        patch.setattr(TaskRunner, "run_plain", counted)
        if not fast:
            patch.setattr(steps, "plain", lambda spec: False)
        runner = FlowRunner(flow, listeners=(listener,))
        final = runner.run_until_done(executor=executor, **kw)
    assert (plain_runs[0] > 0) is fast
    states = final.result
    described = {flow.slugs[t]: _describe(st) for t, st in states.items()}
    return (type(final).__name__, final.message, described), heard


@pytest.mark.parametrize("kind", ["local", "threads"])
@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_the_fast_path_ends_every_flow_as_the_general_path_does(
    build: Callable[[], Flow], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def executor() -> Any:
        return LocalExecutor() if kind == "local" else LocalDaskExecutor("threads", num_workers=2)

    flow = build()
    fast, fast_heard = _run(flow, True, executor(), monkeypatch)
    general, general_heard = _run(flow, False, executor(), monkeypatch)
    assert fast == general
    assert fast_heard == general_heard


def test_the_fast_path_gives_listeners_every_state_of_a_child_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flow = build_map()
    _, heard = _run(flow, True, LocalExecutor(), monkeypatch)
    assert heard[("inc-1", 2)] == [
        ("Pending", "Running", "Starting task run."),
        ("Running", "Success", "Task run succeeded."),
    ]


def test_a_restart_with_given_children_matches_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flow = build_failures()
    fragile_task = next(t for t in flow.tasks if flow.slugs[t] == "fragile-1")
    first = flow.run().result
    # an interrupted run: fragile's first four children reported, inc's none
    given = {
        t: s.Mapped(map_states=st.map_states[:4]) if t is fragile_task else st
        for t, st in first.items()
        if t.name in ("numbers", "fragile") and flow.slugs[t] == f"{t.name}-1"
    }
    fast, fast_heard = _run(flow, True, LocalExecutor(), monkeypatch, task_states=given)
    general, general_heard = _run(flow, False, LocalExecutor(), monkeypatch, task_states=given)
    assert fast == general
    assert fast_heard == general_heard


def test_which_tasks_are_plain() -> None:
    settings = RunSettings()

    def plain(t: Any, **kw: Any) -> bool:
        return steps.plain(TaskSpec.build(t, settings.replace(**kw)))

    assert plain(inc)
    assert not plain(retried)
    assert not plain(task(lambda: 1, timeout=5))
    assert not plain(inc, default_timeout=5.0)
    assert not plain(task(lambda: 1, cache_for=__import__("datetime").timedelta(1)))
    assert not plain(task(lambda: 1, trigger=lambda up: True))
    assert not plain(task(lambda: 1, state_handlers=[lambda t, o, n: n]))
    assert not plain(task(lambda: 1, log_stdout=True))
    assert not plain(task(lambda: 1, checkpoint=True))
    assert not plain(task(lambda: 1, target="x"))
    assert not plain(task(lambda: 1, task_run_name="r"))


def test_the_plain_row_is_the_tables() -> None:
    assert PLAIN_RUN.first is s.Pending
    assert PLAIN_RUN.start is target_kind(s.Pending, Event.START) is s.Running
    assert PLAIN_RUN.end is s.Success and s.Success in FOLLOWERS[s.Running]


def test_a_task_runner_subclass_that_drives_runs_itself_gets_the_general_path() -> None:
    class Mine(TaskRunner):
        def set_state(self, *args: Any, **kw: Any) -> s.State:
            seen.append(args[1])
            return super().set_state(*args, **kw)

    seen: list[s.State] = []
    flow = build_map()
    final = FlowRunner(flow, task_runner_cls=Mine).run()
    assert final.is_successful()
    assert [type(x).__name__ for x in seen].count("Running") == 8  # numbers, 6 children, total
    assert TaskRunner(inc).plain and not Mine(inc).plain


def test_a_listener_that_raises_fails_the_run_as_on_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def picky(t: Any, index: int | None, old: s.State, new: s.State) -> None:
        if index == 1 and isinstance(new, s.Running):
            raise RuntimeError("listener broke")
        if index == 2 and type(new) is s.Success:
            raise RuntimeError("listener broke late")

    def run(fast: bool) -> Any:
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(steps, "plain", lambda spec: False)
            final = FlowRunner(build_map(), listeners=(picky,)).run()
        return {t.name: _describe(st) for t, st in final.result.items()}

    fast, general = run(True), run(False)
    assert fast == general
    children = fast["inc"][2]
    assert children[1][0] == "Failed" and "listener broke" in children[1][1]
    assert children[2][0] == "Failed" and children[0][0] == "Success"


@task
def stopped_at_one(x: int) -> int:
    if x == 1:
        raise RunCancelled("stop")
    return x


def test_a_run_stopped_mid_map_tells_the_listeners_as_on_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def run(fast: bool) -> list[Any]:
        heard: list[Any] = []

        def listener(t: Any, index: int | None, old: s.State, new: s.State) -> None:
            heard.append((t.name, index, type(old).__name__, type(new).__name__))

        with Flow("stopped") as flow:
            stopped_at_one.map(numbers(3))
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(steps, "plain", lambda spec: False)
            with pytest.raises(RunCancelled):
                FlowRunner(flow, listeners=(listener,)).run()
        return heard

    fast = run(True)
    assert fast == run(False)
    assert ("stopped_at_one", 1, "Running", "Cancelled") in fast
