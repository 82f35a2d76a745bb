"""A failed task keeps why: the exception's type, message and traceback (the user's frames,
headrace's trimmed) on its Failed state, on every executor, and in the task's log at ERROR."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest

from headrace import Flow, task
from headrace.engine import state as s
from headrace.engine.failure import ErrorInfo, describe_error, short_traceback


def _check_amount(value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"row 2: amount {value!r} is not an integer")
    return int(value)


@task
def parse_amounts(values: list[str]) -> list[int]:
    return [_check_amount(v) for v in values]


@task(timeout=0.5)
def sleeps_too_long() -> None:
    import time

    for _ in range(100):
        time.sleep(0.05)


def _chained() -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        raise RuntimeError("lookup failed") from exc


@task
def chained() -> None:
    _chained()


def test_a_failed_task_keeps_type_message_and_user_traceback(executor: Any) -> None:
    with Flow("billing-report") as flow:
        parsed = parse_amounts(["1", "oops"])
    state = flow.run(executor=executor)
    failed = state.result[parsed]
    assert isinstance(failed, s.Failed)
    error = failed.error
    assert isinstance(error, ErrorInfo)
    assert error.type == "ValueError"
    assert error.message == "row 2: amount 'oops' is not an integer"
    lines = error.traceback.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    # The first frame shown is the user's task, then the helper it called; no engine frames.
    frames = [line for line in lines if line.startswith('  File "')]
    # (a task pickled by value to a worker process names its file "<dynamic-code>")
    assert frames[0].endswith("in parse_amounts")
    assert frames[-1].endswith("in _check_amount")
    assert "headrace/engine" not in error.traceback
    assert lines[-1] == "ValueError: row 2: amount 'oops' is not an integer"


def test_the_traceback_is_logged_at_error_from_the_tasks_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Flow("billing-report") as flow:
        parse_amounts(["oops"])
    with caplog.at_level(logging.ERROR, logger="headrace"):
        logging.getLogger("headrace").addHandler(caplog.handler)
        try:
            flow.run()
        finally:
            logging.getLogger("headrace").removeHandler(caplog.handler)
    records = [r for r in caplog.records if r.name == "headrace.task.parse_amounts"]
    assert len(records) == 1
    text = records[0].getMessage()
    assert records[0].levelno == logging.ERROR
    assert "ValueError: row 2: amount 'oops' is not an integer" in text
    assert "Traceback (most recent call last):" in text and "in _check_amount" in text


def test_each_failed_attempt_keeps_its_error_on_retrying() -> None:
    seen: list[s.State] = []

    def record(task_: Any, old: s.State, new: s.State) -> s.State:
        seen.append(new)
        return new

    flaky = task(_check_amount, name="flaky", max_retries=1, retry_delay=0, state_handlers=[record])
    with Flow("retries") as flow:
        flaky("x")
    flow.run()
    kinds = [type(st).__name__ for st in seen]
    assert kinds == ["Running", "Retrying", "Running", "Failed"]
    retrying, failed = seen[1], seen[3]
    assert isinstance(retrying, s.Retrying) and isinstance(failed, s.Failed)
    assert retrying.error is not None and failed.error is not None
    assert retrying.error.message == failed.error.message == "row 2: amount 'x' is not an integer"


def test_a_timeout_and_a_chained_error_are_described() -> None:
    with Flow("odd failures") as flow:
        slow = sleeps_too_long()
        broken = chained()
    result = flow.run().result
    timed_out = result[slow]
    assert isinstance(timed_out, s.TimedOut) and timed_out.error is not None
    assert timed_out.error.type.endswith("TaskTimeoutError")
    error = result[broken].error
    assert error is not None and error.type == "RuntimeError"
    assert "KeyError: 'missing'" in error.traceback
    assert "The above exception was the direct cause" in error.traceback
    assert "headrace/engine" not in error.traceback


def test_error_info_pickles_and_round_trips_as_json() -> None:
    try:
        _check_amount("nope")
    except ValueError as exc:
        info = describe_error(exc)
    assert pickle.loads(pickle.dumps(s.Failed("x", error=info))).error == info
    assert ErrorInfo.from_dict(info.to_dict()) == info
    assert ErrorInfo.from_dict(None) is None


def test_an_engine_error_keeps_its_own_frames() -> None:
    """With no user frame in it, nothing is trimmed (the frames are all there is to see)."""
    from headrace.engine.state import state_class

    try:
        state_class("Nonsense")
    except ValueError as exc:
        info = describe_error(exc)
    assert "headrace/engine/state" in info.traceback


def test_short_traceback_keeps_the_last_frames_and_the_error() -> None:
    frames = "".join(f'  File "f{i}.py", line {i}, in f{i}\n    call()\n' for i in range(6))
    text = f"Traceback (most recent call last):\n{frames}ValueError: bad\n"
    short = short_traceback(text, frames=2)
    assert 'File "f4.py"' in short and 'File "f5.py"' in short and "f3.py" not in short
    assert short.endswith("ValueError: bad")
    assert short_traceback(text, frames=10) == text.rstrip("\n")


def _huge() -> None:
    raise ValueError("x" * 10_000 + " at the bottom")


def test_a_long_traceback_keeps_its_end() -> None:
    from headrace.engine.failure import MAX_TRACEBACK

    try:
        _huge()
    except ValueError as exc:
        info = describe_error(exc)
    assert len(info.traceback) <= MAX_TRACEBACK + 4
    assert info.traceback.startswith("...\n")
    assert info.traceback.rstrip().endswith("x at the bottom")
