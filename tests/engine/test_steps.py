"""The task runner's steps are pure: a spec, the upstream states and the current state in,
the next state and one instruction out -- no sleeping, no I/O, no configuration, no
state changed in place. Tested here without a runner, with a fixed clock."""

from __future__ import annotations

import pickle
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from headrace import Flow, task
from headrace.core.edge import Edge
from headrace.engine import state as s
from headrace.engine import steps
from headrace.engine.decisions import (
    Execute,
    NextIteration,
    Persist,
    ReadCache,
    ReadTarget,
    Remember,
    Sleep,
    WaitUntil,
)
from headrace.engine.errors import InvalidTransitionError
from headrace.engine.results import LocalResult
from headrace.engine.settings import RunSettings
from headrace.engine.signals import ENDRUN
from headrace.engine.task_spec import TaskSpec
from headrace.engine.transitions import apply
from headrace.executors import LocalExecutor

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def _spec(settings: RunSettings | None = None, **options: Any) -> TaskSpec:
    @task(**options)
    def work(x: int = 0) -> int:
        return x

    return TaskSpec.build(work, settings or RunSettings(), slug="work-1", flow_name="f")


@pytest.fixture(autouse=True)
def _no_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(seconds: float) -> None:
        raise AssertionError(f"a step slept {seconds}s")

    monkeypatch.setattr(time, "sleep", refuse)


def test_a_pending_task_starts_its_first_attempt() -> None:
    state, then = steps.begin(_spec(), s.Pending(), clock)
    assert type(state) is s.Running and then == Execute(1)


def test_a_start_time_ahead_is_an_instruction_to_wait_not_a_sleep() -> None:
    later = NOW + timedelta(seconds=30)
    retrying = s.Retrying("again", start_time=later, run_count=2)
    assert steps.start(_spec(), retrying, clock) == (None, WaitUntil(later, 3))
    state, then = steps.start(_spec(), s.Retrying(start_time=NOW, run_count=2), clock)
    assert type(state) is s.Running and then == Execute(3)


def test_waiting_ends_the_pass_sleeps_or_starts_as_the_step_decides() -> None:
    later = NOW + timedelta(seconds=30)
    retrying = s.Retrying(start_time=later, run_count=1)
    todo = WaitUntil(later, 2)
    returns = _spec(RunSettings(returns_retrying=True), max_retries=1)
    sleeps = _spec(RunSettings(returns_retrying=False), max_retries=1)
    assert steps.wait(returns, retrying, todo, clock) == (None, None)  # the run comes back
    assert steps.wait(sleeps, retrying, todo, clock) == (None, Sleep(later, 2))
    state, then = steps.wait(sleeps, retrying, todo, lambda: later)  # the time has come
    assert type(state) is s.Running and then == Execute(2)
    # a state handler ended the run instead of waiting
    assert steps.wait(sleeps, s.Failed("no"), todo, clock) == (None, None)


def test_a_failed_attempt_with_retries_left_is_retrying_at_clock_plus_delay() -> None:
    spec = _spec(max_retries=2, retry_delay=timedelta(seconds=7))
    failed = s.Failed("boom", ValueError("boom"))
    state, then = steps.after_attempt(spec, s.Running(), failed, 1, {}, clock, {}, {})
    assert isinstance(state, s.Retrying)
    assert state.start_time == NOW + timedelta(seconds=7) and state.run_count == 1
    assert then == WaitUntil(NOW + timedelta(seconds=7), 2)
    last = steps.after_attempt(spec, s.Running(), failed, 3, {}, clock, {}, {})
    assert last == (failed, None)


def test_the_retry_delay_comes_from_the_run_settings_not_the_config() -> None:
    spec = _spec(RunSettings(default_retry_delay=42.0), max_retries=1)
    state, _ = steps.after_attempt(spec, s.Running(), s.Failed("x"), 1, {}, clock, {}, {})
    assert isinstance(state, s.Retrying)
    assert state.start_time == NOW + timedelta(seconds=42)


def test_success_is_persisted_then_remembered_when_the_task_asks(tmp_path: Any) -> None:
    settings = RunSettings(checkpointing=True, flow_result=LocalResult(dir=tmp_path))
    spec = _spec(settings, cache_for=timedelta(minutes=5))
    ok = s.Success("done", 3)
    assert steps.after_attempt(spec, s.Running(), ok, 1, {}, clock, {"x": 1}, {}) == (
        None,
        Persist(ok),
    )
    written = s.replace(ok, persisted=LocalResult(dir=tmp_path, location="x"))
    state, then = steps.after_persist(spec, written, clock, {"x": 1}, {"p": 2})
    assert state is None and isinstance(then, Remember) and then.state is written
    entry = then.entry
    assert entry.cached_inputs == {"x": 1} and entry.cached_parameters == {"p": 2}
    assert entry.cache_expiration == NOW + timedelta(minutes=5)
    assert entry.persisted is written.persisted


def test_a_loop_iteration_is_a_new_state_the_signal_state_is_not_changed() -> None:
    looped = s.Looped(result=5)
    state, then = steps.after_attempt(
        _spec(), s.Running(), looped, 1, {"task_loop_count": 3}, clock, {}, {}
    )
    assert isinstance(state, s.Looped) and state is not looped
    assert state.loop_count == 3 and state.result == 5 and "iteration 3" in str(state.message)
    assert then == NextIteration(state)
    assert looped.loop_count == 1 and looped.message is None


def test_target_then_cache_then_start() -> None:
    spec = _spec(target="{task_slug}.out", cache_for=timedelta(minutes=1))
    assert steps.begin(spec, s.Pending(), clock) == (None, ReadTarget())
    assert steps.after_target(spec, s.Pending(), None, "work-1.out", clock) == (None, ReadCache())
    state, then = steps.after_cache(spec, s.Pending(), None, clock)
    assert type(state) is s.Running and then == Execute(1)
    hit = s.Cached(result=9, cached_inputs={"x": 1})
    state, then = steps.after_cache(spec, s.Pending(), hit, clock)
    assert type(state) is s.Cached and state.result == 9 and then is None


def test_upstream_skips_and_triggers() -> None:
    @task
    def up() -> int:
        return 1

    spec = _spec()
    edge = Edge(up, spec.task, key="x")
    assert not steps.upstream_finished({edge: s.Running()})
    assert steps.upstream_finished({edge: s.Success()})
    assert type(steps.upstream_verdict(spec, s.Pending(), {edge: s.Skipped()})) is s.Skipped
    assert type(steps.upstream_verdict(spec, s.Pending(), {edge: s.Failed()})) is s.TriggerFailed
    assert steps.upstream_verdict(spec, s.Pending(), {edge: s.Success(result=1)}) is None
    assert steps.inputs_of({edge: s.Success(result=4)}, {"y": 2}) == {"x": 4, "y": 2}


def test_a_given_finished_state_is_kept_or_restarted() -> None:
    assert steps.restart(_spec(), s.Success()) is None
    assert type(steps.restart(_spec(), s.Failed())) is s.Pending
    keep = _spec(RunSettings(keep_finished=True))
    assert steps.restart(keep, s.Failed()) is None
    assert type(steps.restart(keep, s.Looped(loop_count=2))) is s.Pending


def test_replace_builds_a_new_state() -> None:
    old = s.Retrying("a", 1, start_time=NOW, run_count=2)
    new = s.replace(old, message="b", result=2, drop=("error",))
    assert (old.message, old.result, old.run_count) == ("a", 1, 2)
    assert (new.message, new.result, new.run_count, new.start_time) == ("b", 2, 2, NOW)
    assert new.timestamp == old.timestamp and not hasattr(new, "error")
    with pytest.raises(TypeError, match="no field"):
        s.replace(old, bogus=1)


def test_an_invalid_transition_carries_the_task_both_states_and_the_story() -> None:
    story = [s.Pending(), s.Running()]
    with pytest.raises(InvalidTransitionError) as info:
        apply(story[-1], s.Scheduled(), task="load", map_index=3, story=story)
    err = info.value
    assert err.task == "load[3]" and type(err.old) is s.Running and type(err.new) is s.Scheduled
    assert [type(x) for x in err.story] == [s.Pending, s.Running]
    assert "Pending -> Running" in str(err) and "'load[3]'" in str(err)
    back = pickle.loads(pickle.dumps(err))
    assert (back.task, type(back.old), type(back.new), len(back.story)) == (
        "load[3]",
        s.Running,
        s.Scheduled,
        2,
    )
    assert str(back) == str(err)


def test_a_task_ending_in_a_state_the_table_refuses_fails_saying_why() -> None:
    @task
    def back_to_pending() -> None:
        raise ENDRUN(s.Pending("again"))

    with Flow("refused") as flow:
        refused = back_to_pending()
    state = flow.run(executor=LocalExecutor()).result[refused]
    assert isinstance(state, s.Failed)
    err = state.result
    assert isinstance(err, InvalidTransitionError)
    assert err.task == "back_to_pending" and type(err.old) is s.Running
    assert type(err.new) is s.Pending
    assert [type(x) for x in err.story] == [s.Pending, s.Running]
