"""Triggers decide from upstream states whether a task runs."""

from __future__ import annotations

from typing import Any

import pytest

from headrace import Flow, task
from headrace.engine import state as s
from headrace.engine.signals import PAUSE, SKIP, TRIGGERFAIL
from headrace.triggers import (
    all_failed,
    all_finished,
    all_successful,
    always_run,
    any_failed,
    any_successful,
    manual_only,
    not_all_skipped,
    some_failed,
    some_successful,
)

OK, BAD, SKIPPED = s.Success(), s.Failed(), s.Skipped()
RUNNING = s.Running()


def ups(*states: s.State) -> dict[int, s.State]:
    return dict(enumerate(states))


@pytest.mark.parametrize(
    ("trigger", "states", "fires"),
    [
        (all_successful, [OK, SKIPPED], True),
        (all_successful, [OK, BAD], False),
        (all_successful, [], True),
        (all_failed, [BAD, s.TimedOut()], True),
        (all_failed, [BAD, OK], False),
        (any_successful, [BAD, OK], True),
        (any_successful, [BAD, BAD], False),
        (any_successful, [], True),
        (any_failed, [OK, s.TriggerFailed()], True),
        (any_failed, [OK, OK], False),
        (all_finished, [OK, BAD, SKIPPED], True),
        (all_finished, [OK, RUNNING], False),
        (always_run, [BAD], True),
        (not_all_skipped, [OK, SKIPPED], True),
        (not_all_skipped, [OK, BAD], False),
    ],
)
def test_trigger_verdicts(trigger: Any, states: list[s.State], fires: bool) -> None:
    if fires:
        assert trigger(ups(*states)) is True
    else:
        with pytest.raises(TRIGGERFAIL):
            trigger(ups(*states))


def test_not_all_skipped_skips_when_everything_skipped() -> None:
    with pytest.raises(SKIP):
        not_all_skipped(ups(SKIPPED, SKIPPED))


def test_manual_only_pauses() -> None:
    with pytest.raises(PAUSE):
        manual_only(ups(OK))


def test_mapped_upstream_counts_as_its_children() -> None:
    mapped = s.Mapped(map_states=[OK, BAD])
    with pytest.raises(TRIGGERFAIL):
        all_successful(ups(mapped))
    assert any_failed(ups(mapped)) is True
    assert some_failed(at_least=1)(ups(mapped)) is True
    with pytest.raises(TRIGGERFAIL):
        some_successful(at_least=2)(ups(mapped))


@pytest.mark.parametrize(
    ("trigger", "states", "fires"),
    [
        (some_successful(at_least=2), [OK, OK, BAD], True),
        (some_successful(at_least=3), [OK, OK, BAD], False),
        (some_successful(at_most=1), [OK, BAD, BAD], True),
        (some_successful(at_most=1), [OK, OK, BAD], False),
        (some_successful(at_least=1, at_most=2), [OK, OK, BAD], True),
        (some_failed(at_least=1), [OK, BAD], True),
        (some_failed(at_least=2), [OK, BAD], False),
        (some_failed(at_most=0), [OK, OK], True),
        # fractions are shares of the upstream tasks
        (some_failed(at_least=0.5), [OK, BAD], True),
        (some_failed(at_least=0.5), [OK, OK, BAD], False),
        (some_successful(at_least=0.75), [OK, OK, OK, BAD], True),
        (some_successful(at_most=0.25), [OK, OK, BAD, BAD], False),
        (some_successful(at_least=1.0), [OK, OK], True),
        (some_successful(at_least=1.0), [OK, BAD], False),
    ],
)
def test_some_triggers_with_counts_and_fractions(
    trigger: Any, states: list[s.State], fires: bool
) -> None:
    if fires:
        assert trigger(ups(*states)) is True
    else:
        with pytest.raises(TRIGGERFAIL, match=r"upstream"):
            trigger(ups(*states))


def test_some_triggers_refuse_bad_bounds() -> None:
    with pytest.raises(ValueError, match=r"at_least"):
        some_successful()
    with pytest.raises(ValueError, match=r"at_least"):
        some_failed(at_least=-1)
    with pytest.raises(TypeError, match=r"at_most"):
        some_failed(at_most="half")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"at_least"):
        some_failed(at_least=1.5)


@task
def good() -> int:
    return 1


@task
def bad() -> int:
    raise ValueError("bad")


@task
def combine(a: Any = None, b: Any = None, c: Any = None, d: Any = None) -> str:
    return "ran"


def test_constants_are_not_upstream_tasks_for_fractions() -> None:
    trigger = some_failed(at_least=0.5)
    with Flow("fractions") as flow:
        # one failed of two upstream tasks: 50%; the two constants do not dilute it
        t = combine(good(), bad(), c=3, d=4, task_args={"trigger": trigger})
    assert flow.run().result[t].result == "ran"
    with Flow("fractions-2") as flow2:
        t2 = combine(good(), good(), bad(), d=4, task_args={"trigger": trigger})
    st = flow2.run().result[t2]
    assert type(st) is s.TriggerFailed
    assert "of 3 upstream" in st.message


def test_triggers_in_a_flow() -> None:
    with Flow("trig") as flow:
        g, b = good(), bad()
        any_ok = combine(g, b, task_args={"trigger": any_successful})
        all_bad = combine(b, task_args={"trigger": all_failed})
        all_ok = combine(g, b)
        skip_all = combine(task_args={"trigger": not_all_skipped})
    res = flow.run().result
    assert res[any_ok].result == "ran"
    assert res[all_bad].result == "ran"
    assert type(res[all_ok]) is s.TriggerFailed
    assert res[skip_all].result == "ran"  # no upstream tasks: nothing was skipped


def test_a_raising_trigger_fails_the_task_naming_it() -> None:
    def picky(upstream: Any) -> bool:
        raise RuntimeError("trigger bug")

    with Flow("raising") as flow:
        t = combine(good(), task_args={"trigger": picky})
    st = flow.run().result[t]
    assert type(st) is s.Failed
    assert "picky" in st.message or "trigger" in st.message
    assert "trigger bug" in st.message


def test_trigger_returning_false_fails_the_trigger() -> None:
    with Flow("false") as flow:
        t = combine(good(), task_args={"trigger": lambda ups: False})
    assert type(flow.run().result[t]) is s.TriggerFailed


def test_the_public_path_names_the_engine_triggers() -> None:
    import headrace.engine.triggers as engine_triggers
    import headrace.triggers as public

    assert set(public.__all__) == set(engine_triggers.__all__) | {"Trigger"}
    for name in public.__all__:
        assert getattr(public, name) is getattr(engine_triggers, name)
