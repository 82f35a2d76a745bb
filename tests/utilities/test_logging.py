"""headrace's loggers and the per-thread stdout capture behind ``log_stdout=True``."""

from __future__ import annotations

import logging
import threading

import pytest

from headrace.utilities.logging import get_logger, stdout_capture


def test_one_logger_per_component_under_headrace() -> None:
    assert get_logger().name == "headrace"
    assert get_logger("flow_runner").name == "headrace.flow_runner"
    assert get_logger("flow_runner").parent is get_logger()
    assert get_logger().handlers  # configured once with a stream handler


def test_capture_sends_this_threads_prints_to_the_logger(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="headrace")
    get_logger().addHandler(caplog.handler)
    try:
        with stdout_capture(get_logger("task.t")):
            print("first line")
            print("partial", end="")
            print(" done")
            print("unterminated", end="")
        print("after")
    finally:
        get_logger().removeHandler(caplog.handler)
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    assert messages == [
        ("headrace.task.t", "first line"),
        ("headrace.task.t", "partial done"),
        ("headrace.task.t", "unterminated"),
    ]
    assert capsys.readouterr().out == "after\n"


def test_capture_leaves_other_threads_prints_alone(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="headrace")
    get_logger().addHandler(caplog.handler)
    inside = threading.Event()
    printed = threading.Event()

    def neighbour() -> None:
        inside.wait(5)
        print("neighbour line")
        printed.set()

    t = threading.Thread(target=neighbour)
    t.start()
    try:
        with stdout_capture(get_logger("task.mine")):
            inside.set()
            printed.wait(5)
            print("my line")
    finally:
        t.join()
        get_logger().removeHandler(caplog.handler)
    assert [r.getMessage() for r in caplog.records] == ["my line"]
    assert "neighbour line" in capsys.readouterr().out


def test_nested_captures_restore_the_outer_logger(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="headrace")
    get_logger().addHandler(caplog.handler)
    try:
        with stdout_capture(get_logger("task.outer")):
            with stdout_capture(get_logger("task.inner")):
                print("in")
            print("out")
    finally:
        get_logger().removeHandler(caplog.handler)
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("headrace.task.inner", "in"),
        ("headrace.task.outer", "out"),
    ]


def test_an_unknown_level_is_a_config_error_naming_the_setting() -> None:
    from headrace.exceptions import ConfigError
    from headrace.utilities.logging import configure_logging

    before = get_logger().level
    with pytest.raises(ConfigError, match="HEADRACE__LOGGING__LEVEL"):
        configure_logging("LOUD")
    assert get_logger().level == before
    configure_logging("debug")
    try:
        assert get_logger().level == logging.DEBUG
    finally:
        get_logger().setLevel(before)
