"""``flow.run()`` / ``FlowRunner``: parameters, executors, reference tasks, flow state
handlers, and every task's state in the result."""

from __future__ import annotations

from typing import Any

import pytest

from headrace import Flow, Parameter, config, task
from headrace.engine import (
    get_default_executor_class,
    get_default_flow_runner_class,
    get_default_task_runner_class,
)
from headrace.engine import state as s
from headrace.engine.errors import ParameterError
from headrace.engine.flow_runner import FlowRunner
from headrace.engine.signals import FAIL, SKIP
from headrace.engine.task_runner import TaskRunner
from headrace.executors import LocalExecutor


@task
def plus(x: int, y: int) -> int:
    return x + y


@task
def fail_task() -> None:
    raise ValueError("broken input")


@task
def ok() -> str:
    return "ok"


def param_flow() -> tuple[Flow, Any]:
    with Flow("params") as flow:
        a = Parameter("a")
        b = Parameter("b", default=10)
        total = plus(a, b)
    return flow, total


def test_parameters_by_dict_or_keywords_are_the_same(executor: Any) -> None:
    flow, total = param_flow()
    by_dict = flow.run(parameters={"a": 1}, executor=executor)
    by_kw = flow.run(a=1, executor=executor)
    assert by_dict.result[total].result == by_kw.result[total].result == 11
    assert flow.run(a=1, b=2, executor=executor).result[total].result == 3


def test_a_parameter_given_twice_is_refused() -> None:
    flow, _ = param_flow()
    with pytest.raises(ParameterError, match=r"'a'.*both"):
        flow.run(parameters={"a": 1}, a=2)


def test_unknown_parameter_is_named() -> None:
    flow, _ = param_flow()
    with pytest.raises(ParameterError, match=r"'c'") as info:
        flow.run(a=1, c=3)
    assert isinstance(info.value, ValueError)


def test_missing_required_parameter_is_named() -> None:
    flow, _ = param_flow()
    with pytest.raises(ParameterError, match=r"missing.*'a'"):
        flow.run()


def test_parameter_not_required_when_given_a_default_or_told_so(executor: Any) -> None:
    flow = Flow("opt")
    p = flow.add_task(Parameter("p", required=False))
    q = flow.add_task(Parameter("q", default=None, required=True))
    with pytest.raises(ParameterError, match=r"'q'"):
        flow.run(executor=executor)
    state = flow.run(q=5, executor=executor)
    assert state.result[p].result is None and state.result[q].result == 5


def test_result_maps_every_task_to_its_final_state(executor: Any) -> None:
    flow, _total = param_flow()
    state = flow.run(a=1, executor=executor)
    assert set(state.result) == set(flow.tasks)
    assert all(st.is_successful() for st in state.result.values())
    assert type(state) is s.Success


def test_reference_tasks_decide_the_flow_state(executor: Any) -> None:
    with Flow("refs") as flow:
        bad = fail_task()
        good = ok()
    assert flow.run(executor=executor).is_failed()  # both are terminal
    flow.set_reference_tasks([good])
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert state.result[bad].is_failed()  # still reported


@task
def skipper() -> None:
    raise SKIP("nothing")


def test_skipped_reference_task_counts_as_success(executor: Any) -> None:
    with Flow("skip") as flow:
        skipper()
    assert type(flow.run(executor=executor)) is s.Success


@pytest.mark.parametrize("how", ["class", "instance"])
def test_flow_runner_accepts_an_executor_class_or_instance(how: str) -> None:
    flow, total = param_flow()
    chosen: Any = LocalExecutor if how == "class" else LocalExecutor()
    state = FlowRunner(flow=flow).run(parameters={"a": 2}, executor=chosen)
    assert state.result[total].result == 12


def test_a_non_executor_is_refused() -> None:
    flow, _ = param_flow()
    with pytest.raises(TypeError, match=r"executor .*object.* has no start"):
        FlowRunner(flow=flow).run(parameters={"a": 2}, executor=object())
    with pytest.raises(TypeError, match=r"Flow"):
        FlowRunner(flow="not a flow")  # type: ignore[arg-type]


def test_flow_executor_is_used_when_run_names_none() -> None:
    class CountingExecutor(LocalExecutor):
        submitted = 0

        def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
            CountingExecutor.submitted += 1
            return super().submit(fn, *args, **kwargs)

    flow, _ = param_flow()
    flow.executor = CountingExecutor()
    flow.run(a=1)
    assert CountingExecutor.submitted == len(flow.tasks)


def test_default_classes_follow_config(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_default_executor_class() is LocalExecutor
    assert get_default_flow_runner_class() is FlowRunner
    assert get_default_task_runner_class() is TaskRunner

    class MyRunner(FlowRunner):
        pass

    class MyExecutor(LocalExecutor):
        pass

    overrides = {
        "engine.flow_runner.default_class": f"{__name__}:MyRunner",
        "engine.executor.default_class": f"{__name__}:MyExecutor",
    }
    globals()["MyRunner"], globals()["MyExecutor"] = MyRunner, MyExecutor
    try:
        with config.override(**overrides):
            assert get_default_flow_runner_class() is MyRunner
            assert get_default_executor_class() is MyExecutor
            flow, total = param_flow()
            assert flow.run(a=1).result[total].result == 11
    finally:
        del globals()["MyRunner"], globals()["MyExecutor"]


def test_default_classes_from_environment_overrides() -> None:
    import subprocess
    import sys

    code = (
        "from headrace.engine import get_default_executor_class, get_default_flow_runner_class;"
        "print(get_default_executor_class().__name__, get_default_flow_runner_class().__name__)"
    )
    env = {
        **__import__("os").environ,
        "HEADRACE__ENGINE__EXECUTOR__DEFAULT_CLASS": "headrace.executors.base:Executor",
        "HEADRACE__ENGINE__FLOW_RUNNER__DEFAULT_CLASS": "headrace.engine.flow_runner:FlowRunner",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["Executor", "FlowRunner"]


def replace_failure(flow: Flow, old: s.State, new: s.State) -> s.State | None:
    if new.is_failed():
        return s.Success("forgiven", new.result)
    return None


def record_states(flow: Flow, old: s.State, new: s.State) -> None:
    assert isinstance(flow, Flow)  # handlers get the flow itself
    seen = flow.__dict__.setdefault("_seen", [])
    seen.append((type(old).__name__, type(new).__name__))


def test_flow_state_handlers_see_every_change_and_may_replace_it(executor: Any) -> None:
    with Flow("handled", state_handlers=[record_states, replace_failure]) as flow:
        fail_task()
    state = flow.run(executor=executor)
    assert type(state) is s.Success and state.message == "forgiven"
    assert flow.__dict__["_seen"] == [("Pending", "Running"), ("Running", "Failed")]


def raising_handler(flow: Flow, old: s.State, new: s.State) -> None:
    raise RuntimeError("handler bug")


def test_a_raising_flow_handler_fails_the_flow_with_a_clear_message(executor: Any) -> None:
    with Flow("bad-handler", state_handlers=[raising_handler]) as flow:
        ok()
    state = flow.run(executor=executor)
    assert state.is_failed()
    assert "raising_handler" in state.message and "handler bug" in state.message
    assert isinstance(state.result, RuntimeError)


def test_task_errors_keep_the_exception_and_name_the_task(executor: Any) -> None:
    with Flow("errors") as flow:
        t = fail_task()
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Failed
    assert isinstance(st.result, ValueError)
    assert "fail_task" in st.message and "broken input" in st.message


@task
def raises_fail() -> int:
    raise FAIL("nope")


def test_failed_upstream_trigger_fails_downstream(executor: Any) -> None:
    with Flow("trig") as flow:
        down = plus(raises_fail(), 1)
    st = flow.run(executor=executor).result[down]
    assert type(st) is s.TriggerFailed
