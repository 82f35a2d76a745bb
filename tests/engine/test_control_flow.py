"""Control flow (``case``, ``switch``, ``ifelse``, ``merge``) with Prefect's skip
semantics, on every executor, mapped too."""

from __future__ import annotations

from typing import Any

import pytest

import headrace
from headrace import Flow, Parameter, case, task
from headrace.core.errors import NoActiveFlowError
from headrace.engine import state as s
from headrace.engine.signals import SKIP
from headrace.tasks.control_flow import CompareValue, ifelse, merge, switch


@task
def choose(x: str) -> str:
    return x


@task
def shout(word: str) -> str:
    return word.upper()


@task
def letter_a() -> str:
    return "a"


@task
def letter_b() -> str:
    return "b"


@task
def exclaim(value: str) -> str:
    return f"{value}!"


@task
def numbers() -> list[int]:
    return [1, 2, 3, 4]


@task
def is_even(x: int) -> bool:
    return x % 2 == 0


@task
def half(x: int) -> int:
    return x // 2


@task
def triple(x: int) -> int:
    return 3 * x


@task
def broken() -> str:
    raise RuntimeError("no condition today")


def _branching_flow() -> tuple[Flow, dict[str, Any]]:
    with Flow("branching") as flow:
        which = Parameter("which", default="a")
        picked = choose(which)
        with case(picked, "a"):
            first_a = letter_a()
            then_a = shout(first_a)
        with case(picked, "b"):
            then_b = shout(letter_b())
        joined = exclaim(merge(then_a, then_b))
    return flow, {"first_a": first_a, "then_a": then_a, "then_b": then_b, "joined": joined}


@pytest.mark.parametrize(
    ("which", "taken", "skipped"), [("a", "then_a", "then_b"), ("b", "then_b", "then_a")]
)
def test_case_runs_only_the_matching_branch_and_merge_joins_it(
    executor: Any, which: str, taken: str, skipped: str
) -> None:
    flow, tasks = _branching_flow()
    state = flow.run(which=which, executor=executor)
    assert state.is_successful()
    assert type(state.result[tasks[taken]]) is s.Success
    assert type(state.result[tasks[skipped]]) is s.Skipped
    assert state.result[tasks["joined"]].result == f"{which.upper()}!"


def test_case_puts_its_comparison_upstream_of_the_first_tasks_of_the_branch_only() -> None:
    flow, tasks = _branching_flow()
    compares = {t.value: t for t in flow.tasks if isinstance(t, CompareValue)}
    assert set(compares) == {"a", "b"}
    first_a = tasks["first_a"]
    assert compares["a"] in flow.upstream_tasks(first_a)
    assert compares["a"] not in flow.upstream_tasks(tasks["then_a"])  # reached through first_a


def test_merge_skips_when_every_branch_skipped() -> None:
    with Flow("none") as flow:
        picked = choose("c")
        with case(picked, "a"):
            a = letter_a()
        with case(picked, "b"):
            b = letter_b()
        joined = merge(a, b)
        after = exclaim(joined)
    state = flow.run()
    assert type(state.result[joined]) is s.Skipped
    assert type(state.result[after]) is s.Skipped
    assert state.is_successful()  # skipped counts as success for the flow


@task
def maybe(x: int) -> int:
    if x < 0:
        raise SKIP("negative")
    return x


def test_merge_passes_over_a_task_that_raised_skip(executor: Any) -> None:
    with Flow("skip signal") as flow:
        first = maybe(-1)
        second = maybe(5)
        joined = merge(first, second)
    state = flow.run(executor=executor)
    assert isinstance(state.result[first].result, SKIP)  # the signal is its result
    assert state.result[joined].result == 5


def test_nested_cases_skip_the_inner_branch_with_the_outer_one() -> None:
    with Flow("nested") as flow:
        outer = choose("x")
        inner = choose("y")
        with case(outer, "x"):
            with case(inner, "z"):
                deepest = letter_a()
            sibling = letter_b()
    state = flow.run()
    assert type(state.result[deepest]) is s.Skipped
    assert state.result[sibling].result == "b"


def test_a_failed_condition_fails_the_branch_instead_of_skipping_it() -> None:
    with Flow("failing condition") as flow:
        cond = broken()
        with case(cond, True):
            a = letter_a()
    state = flow.run()
    assert state.result[a].is_failed()
    assert isinstance(state.result[a], s.TriggerFailed)


def test_switch_runs_the_case_whose_key_matches(executor: Any) -> None:
    with Flow("switch") as flow:
        picked = choose("b")
        a, b = letter_a(), letter_b()
        switch(picked, {"a": a, "b": b})
        out = exclaim(merge(a, b))
    state = flow.run(executor=executor)
    assert type(state.result[a]) is s.Skipped
    assert state.result[out].result == "b!"


def test_ifelse_and_merge_per_mapped_child(executor: Any) -> None:
    with Flow("mapped ifelse") as flow:
        xs = numbers()
        even = is_even.map(xs)
        halves = half.map(xs)
        triples = triple.map(xs)
        ifelse(even, halves, triples, mapped=True)
        joined = merge(halves, triples, mapped=True)
    state = flow.run(executor=executor)
    assert [type(c) for c in state.result[halves].map_states] == [
        s.Skipped,
        s.Success,
        s.Skipped,
        s.Success,
    ]
    assert state.result[joined].result == [3, 1, 9, 2]


def test_ifelse_with_one_side_missing() -> None:
    with Flow("ifelse") as flow:
        a = letter_a()
        ifelse(choose(""), a, None)
    assert type(flow.run().result[a]) is s.Skipped


def test_control_flow_outside_a_flow_is_refused_naming_the_call() -> None:
    with pytest.raises(NoActiveFlowError, match=r"case\(\.\.\.\)"), case(letter_a, "a"):
        pass
    with pytest.raises(NoActiveFlowError, match=r"merge"):
        merge(letter_a, letter_b)
    with pytest.raises(TypeError, match=r"not 'x'"):
        case("x", 1)  # type: ignore[arg-type]


def test_prefect_import_paths() -> None:
    import headrace.tasks.control_flow as control_flow
    import headrace.tasks.control_flow.conditional as conditional

    assert headrace.case is control_flow.case
    assert conditional.merge is control_flow.merge


@task
def risky(x: int) -> int:
    if x == 2:
        raise ValueError("two")
    if x == 3:
        raise SKIP("three")
    return x


def test_filter_task_keeps_only_real_results(executor: Any) -> None:
    from headrace.tasks.control_flow import FilterTask

    with Flow("filter") as flow:
        children = risky.map([1, 2, 3, 4])
        kept = FilterTask()(children)
        evens = FilterTask(filter_func=lambda r: isinstance(r, int) and r % 2 == 0)(children)
    state = flow.run(executor=executor)
    assert state.result[kept].result == [1, 4]
    assert state.result[evens].result == [4]
