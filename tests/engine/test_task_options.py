"""Per-task behaviour: retries, timeouts, skips, state handlers, context, log_stdout."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.engine.helpers import bump, count

from headrace import Flow, context, task
from headrace.engine import state as s
from headrace.engine.signals import RETRY, SKIP
from headrace.triggers import always_run


@task(max_retries=2, retry_delay=0)
def flaky(path: str, succeed_on: int) -> int:
    n = bump(path)
    if n < succeed_on:
        raise ConnectionError(f"attempt {n} failed")
    return context.task_run_count


def test_retries_until_success_and_counts_runs(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("retry") as flow:
        t = flaky(path, 3)
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Success
    assert st.result == 3  # context.task_run_count on the third attempt
    assert count(path) == 3


def test_retries_give_up_after_max_retries(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("retry") as flow:
        t = flaky(path, 99)
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Failed and isinstance(st.result, ConnectionError)
    assert "attempt 3 failed" in st.message
    assert count(path) == 3  # one run + two retries


@task(max_retries=3, retry_delay=0, retry_on=[ConnectionError])
def picky(path: str) -> None:
    n = bump(path)
    if n == 1:
        raise ConnectionError("transient")
    raise KeyError("permanent")


def test_retry_on_retries_only_the_listed_exceptions(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("retry-on") as flow:
        t = picky(path)
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Failed and isinstance(st.result, KeyError)
    assert count(path) == 2  # ConnectionError retried once, KeyError not


@task(retry_delay=0)
def asks_for_retry(path: str) -> int:
    n = bump(path)
    if n < 3:
        raise RETRY(f"not yet ({n})")
    return n


def test_retry_signal_retries_even_without_max_retries(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("retry-signal") as flow:
        t = asks_for_retry(path)
    st = flow.run(executor=executor).result[t]
    assert st.result == 3 and count(path) == 3


@task(max_retries=1, retry_delay=0.3)
def slow_flaky(path: str) -> float:
    bump(path)
    stamp = Path(path + ".time")
    if not stamp.exists():
        stamp.write_text(repr(time.monotonic()))
        raise ConnectionError("first")
    return time.monotonic() - float(stamp.read_text())


def test_retry_delay_waits_between_attempts(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("delay") as flow:
        t = slow_flaky(path)
    st = flow.run(executor=executor).result[t]
    assert st.is_successful()
    assert st.result >= 0.3  # a lower bound, not a timing assertion on speed


def record_transition(task: Any, old: s.State, new: s.State) -> None:
    with open(task.tags and next(iter(task.tags)), "a") as fh:
        fh.write(f"{type(old).__name__}>{type(new).__name__}\n")


def test_retrying_states_reach_handlers(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    log = str(tmp_path / "handler.log")
    with Flow("retry-handler") as flow:
        flaky(path, 2, task_args={"state_handlers": [record_transition], "tags": [log]})
    flow.run(executor=executor)
    assert Path(log).read_text().split() == [
        "Pending>Running",
        "Running>Retrying",
        "Retrying>Running",
        "Running>Success",
    ]


@task(timeout=0.5)
def sleeps_forever(marker: str) -> None:
    time.sleep(60)
    Path(marker).write_text("the function returned")


@task(timeout=0.5)
def spins_forever(marker: str) -> None:
    while True:
        if Path(marker + ".stop").exists():  # never true: spins until interrupted
            break
    Path(marker).write_text("the function returned")


@task(timeout=5)
def quick() -> int:
    return 1


@pytest.mark.parametrize("fn", [sleeps_forever, spins_forever])
def test_timeout_ends_the_task_timed_out(executor: Any, fn: Any, tmp_path: Path) -> None:
    marker = str(tmp_path / "returned")
    with Flow("timeout") as flow:
        t = fn(marker)
        after = quick(upstream_tasks=[t])
    state = flow.run(executor=executor)
    assert type(state.result[t]) is s.TimedOut
    assert "timed out after 0.5s" in state.result[t].message
    assert isinstance(state.result[t].result, TimeoutError)
    assert type(state.result[after]) is s.TriggerFailed
    # the run ended while the function had still not returned (it sleeps 60 s)
    assert not Path(marker).exists()


@task(timeout=0.3, max_retries=1, retry_delay=0, retry_on=[TimeoutError])
def slow_then_fast(path: str) -> int:
    if bump(path) == 1:
        time.sleep(60)
    return context.task_run_count


def test_a_timed_out_attempt_can_be_retried(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("timeout-retry") as flow:
        t = slow_then_fast(path)
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Success and st.result == 2
    assert count(path) == 2


def test_timeout_does_not_hit_a_fast_task(executor: Any) -> None:
    with Flow("fast") as flow:
        t = quick()
    assert flow.run(executor=executor).result[t].result == 1


@task
def skip_it() -> None:
    raise SKIP("no data")


@task
def downstream(x: Any = None) -> str:
    return "ran"


def test_skip_on_upstream_skip(executor: Any) -> None:
    with Flow("skips") as flow:
        sk = skip_it()
        follows = downstream(sk)
        opt_out = downstream(sk, task_args={"skip_on_upstream_skip": False})
        chained = downstream(follows)
    res = flow.run(executor=executor).result
    assert type(res[follows]) is s.Skipped
    assert type(res[chained]) is s.Skipped
    assert type(res[opt_out]) is s.Success and res[opt_out].result == "ran"


@task
def fails() -> None:
    raise ValueError("x")


def test_always_run_runs_after_a_failure(executor: Any) -> None:
    with Flow("cleanup") as flow:
        f = fails()
        cleanup = downstream(upstream_tasks=[f], task_args={"trigger": always_run})
    flow.set_reference_tasks([f])
    state = flow.run(executor=executor)
    assert state.result[cleanup].result == "ran"
    assert state.is_failed()


def turn_failure_into_success(task: Any, old: s.State, new: s.State) -> s.State | None:
    if new.is_failed():
        return s.Success("handled", "fallback")
    return None


def raising_handler(task: Any, old: s.State, new: s.State) -> None:
    if new.is_running():
        raise RuntimeError("handler exploded")


def test_task_state_handler_may_replace_the_state(executor: Any) -> None:
    with Flow("handler") as flow:
        t = fails(task_args={"state_handlers": [turn_failure_into_success]})
        after = downstream(t)
    res = flow.run(executor=executor).result
    assert type(res[t]) is s.Success and res[t].result == "fallback"
    assert res[after].result == "ran"


def test_a_raising_task_handler_fails_the_task_clearly(executor: Any) -> None:
    with Flow("bad-handler") as flow:
        t = quick(task_args={"state_handlers": [raising_handler]})
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Failed
    assert "raising_handler" in st.message and "handler exploded" in st.message
    assert "quick" in st.message
    assert isinstance(st.result, RuntimeError)


@task
def read_context(x: int) -> dict[str, Any]:
    return {
        "flow_name": context.flow_name,
        "task_name": context.task_name,
        "map_index": context.get("map_index"),
        "parameters": dict(context.parameters),
        "run_count": context.task_run_count,
        "logger": context.logger.name,
        "has_start": "scheduled_start_time" in context,
    }


def test_tasks_read_the_run_context(executor: Any) -> None:
    from headrace import Parameter

    with Flow("ctx-flow") as flow:
        p = Parameter("p", default=5)
        single = read_context(p)
        mapped = read_context.map([1, 2])
    state = flow.run(executor=executor)
    got = state.result[single].result
    assert got == {
        "flow_name": "ctx-flow",
        "task_name": "read_context",
        "map_index": None,
        "parameters": {"p": 5},
        "run_count": 1,
        "logger": "headrace.task.read_context",
        "has_start": True,
    }
    assert [r["map_index"] for r in state.result[mapped].result] == [0, 1]
    assert context.get("flow_name") is None  # nothing leaks out of the run


@task(log_stdout=True)
def chatty() -> str:
    print("hello from the task")
    return "done"


@task
def quiet_printer() -> str:
    print("plain print")
    return "done"


@pytest.fixture
def task_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog`` receiving headrace's log records (LocalExecutor only: the records are
    observed in this process)."""
    from headrace.utilities.logging import get_logger

    caplog.set_level(logging.INFO, logger="headrace")
    get_logger().addHandler(caplog.handler)
    yield caplog
    get_logger().removeHandler(caplog.handler)


def test_log_stdout_sends_prints_to_the_task_log(
    task_log: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with Flow("logs") as flow:
        chatty()
        quiet_printer()
    assert flow.run().is_successful()
    task_records = [(r.name, r.getMessage()) for r in task_log.records if ".task." in r.name]
    assert task_records == [("headrace.task.chatty", "hello from the task")]
    out = capsys.readouterr().out
    assert "plain print" in out and "hello from the task" not in out


@task(log_stdout=True, timeout=5)
def chatty_with_timeout() -> str:
    print("timed hello")
    return "done"


def test_log_stdout_also_captures_a_task_with_a_timeout(
    task_log: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with Flow("logs") as flow:
        chatty_with_timeout()
    assert flow.run().is_successful()
    messages = [(r.name, r.getMessage()) for r in task_log.records if ".task." in r.name]
    assert messages == [("headrace.task.chatty_with_timeout", "timed hello")]
    assert "timed hello" not in capsys.readouterr().out


def skip_running(task: Any, old: s.State, new: s.State) -> Any:
    if new.is_running():
        return s.Success("pretend it ran")  # Pending -> Success skips running: not allowed
    return None


def return_garbage(task: Any, old: s.State, new: s.State) -> Any:
    return "not a state"


@pytest.mark.parametrize(
    ("handler", "words"),
    [(skip_running, "Pending state cannot be followed by a Success"), (return_garbage, "str")],
)
def test_a_handler_returning_an_invalid_state_fails_the_task(
    executor: Any, handler: Any, words: str
) -> None:
    with Flow("invalid-handler") as flow:
        t = quick(task_args={"state_handlers": [handler]})
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Failed
    assert handler.__name__ in st.message and words in st.message


def test_engine_errors_are_told_from_user_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # LocalExecutor only: the broken listener is engine-side code in this process.
    from headrace.engine.flow_runner import FlowRunner

    def broken_listener(task: Any, index: Any, old: s.State, new: s.State) -> None:
        raise RuntimeError("listener bug")

    with Flow("engine-error") as flow:
        t = quick()
    state = FlowRunner(flow, listeners=(broken_listener,)).run()
    st = state.result[t]
    assert type(st) is s.Failed
    assert "headrace engine error" in st.message and "listener bug" in st.message
    assert isinstance(st.result, RuntimeError)
    with Flow("user-error") as user:
        bad = fails()
    st = user.run().result[bad]
    assert "engine error" not in st.message and "fails" in st.message
