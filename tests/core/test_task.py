"""``Task``, ``@task`` and their options."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from headrace import Flow, Task, task
from headrace.core import FunctionTask
from headrace.core.errors import NoActiveFlowError
from headrace.engine import cache
from headrace.engine.results import LocalResult
from headrace.triggers import all_finished


def double(x: int) -> int:
    return 2 * x


def handler(task: Any, old: Any, new: Any) -> None:
    return None


class Add(Task):
    def run(self, x: int, y: int = 1) -> int:
        return x + y


def test_bare_decorator_keeps_the_function_and_its_name() -> None:
    t = task(double)
    assert isinstance(t, FunctionTask)
    assert t.name == "double"
    assert t.run(4) == 8
    assert t.max_retries == 0
    assert t.trigger is None
    assert t.skip_on_upstream_skip is True


def test_decorator_with_every_option_of_the_design(tmp_path: Any) -> None:
    result = LocalResult(dir=tmp_path)
    t = task(
        double,
        name="twice",
        max_retries=2,
        retry_delay=timedelta(seconds=1.5),
        timeout=3,
        trigger=all_finished,
        skip_on_upstream_skip=False,
        cache_for=timedelta(minutes=1),
        cache_key="shared",
        checkpoint=True,
        result=result,
        target="{task_name}.pickle",
        state_handlers=[handler],
        tags=["a", "b"],
        nout=2,
        log_stdout=True,
    )
    assert t.name == "twice"
    assert t.max_retries == 2
    assert t.retry_delay == 1.5
    assert t.timeout == 3.0
    assert t.trigger is all_finished
    assert t.skip_on_upstream_skip is False
    assert t.cache_for == timedelta(minutes=1)
    assert t.cache_key == "shared"
    assert t.checkpoint is True
    assert t.result is result
    assert t.target == "{task_name}.pickle"
    assert t.state_handlers == [handler]
    assert t.tags == {"a", "b"}
    assert t.nout == 2
    assert t.log_stdout is True

    decorated = task(name="d", max_retries=1, cache_validator=cache.all_inputs)(double)
    assert decorated.name == "d"
    assert decorated.max_retries == 1
    assert decorated.cache_validator is cache.all_inputs


def test_subclass_runs_its_run_method_and_defaults_its_name() -> None:
    t = Add()
    assert t.name == "Add"
    assert t.run(1, 2) == 3
    with Flow("f") as flow:
        r = Add(name="adder")(x=1)
    state = flow.run()
    assert state.result[r].result == 2


def test_task_objects_are_small() -> None:
    t = task(double)
    assert not hasattr(t, "__dict__")


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"max_retries": -1}, ValueError, "max_retries"),
        ({"max_retries": 1.5}, TypeError, "max_retries"),
        ({"retry_delay": "soon"}, TypeError, "retry_delay"),
        ({"retry_delay": -1}, ValueError, "retry_delay"),
        ({"timeout": 0}, ValueError, "timeout"),
        ({"timeout": "1s"}, TypeError, "timeout"),
        ({"trigger": "all"}, TypeError, "trigger"),
        ({"retry_on": [42]}, TypeError, "retry_on"),
        ({"cache_key": 5}, TypeError, "cache_key"),
        ({"cache_validator": 5}, TypeError, "cache_validator"),
        ({"result": "dir"}, TypeError, "result"),
        ({"target": 5}, TypeError, "target"),
        ({"state_handlers": [5]}, TypeError, "state handler"),
        ({"nout": 0}, ValueError, "nout"),
        ({"nout": "2"}, TypeError, "nout"),
    ],
)
def test_bad_options_name_the_task_and_option(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words) as info:
        task(double, **{"name": "culprit", **kwargs})
    if "name" not in kwargs:
        assert "culprit" in str(info.value)


def test_a_task_name_must_be_a_non_empty_string() -> None:
    with pytest.raises(TypeError, match=r"name"):
        Add(name="")
    with pytest.raises(TypeError, match=r"name"):
        Add(name=5)  # type: ignore[arg-type]


def test_decorating_a_non_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"callable"):
        task(42)  # type: ignore[call-overload]


def test_star_args_are_refused() -> None:
    def spread(*items: int) -> int:
        return sum(items)

    with pytest.raises(TypeError, match=r"\*items"):
        task(spread)


def test_retry_on_accepts_one_type_or_several() -> None:
    assert task(double, retry_on=KeyError).retry_on == (KeyError,)
    assert task(double, retry_on=[KeyError, OSError]).retry_on == (KeyError, OSError)


def test_copy_with_overrides_leaves_the_original_alone() -> None:
    original = task(double, name="orig", tags=["x"], slug="s")
    clone = original.copy(name="clone", max_retries=3)
    assert clone is not original
    assert (clone.name, clone.max_retries, clone.tags) == ("clone", 3, frozenset({"x"}))
    assert clone.slug is None  # a slug is unique per flow, so copies drop it
    assert (original.name, original.max_retries, original.slug) == ("orig", 0, "s")
    assert clone.run(2) == 4
    with pytest.raises(AttributeError, match=r"no_such_option"):
        original.copy(no_such_option=1)


def test_calling_outside_a_flow_suggests_task_run() -> None:
    t = task(double)
    with pytest.raises(NoActiveFlowError, match=r"double\.run\(") as info:
        t(1)
    assert isinstance(info.value, ValueError)
    with pytest.raises(NoActiveFlowError):
        t.map([1, 2])
    with pytest.raises(NoActiveFlowError):
        t.set_upstream(task(double))


def test_unpacking_needs_nout() -> None:
    t = task(double)
    with Flow("f"), pytest.raises(TypeError, match=r"nout"):
        _a, _b = t(1)


def test_wrong_arguments_name_the_task() -> None:
    t = task(double)
    with Flow("f"), pytest.raises(TypeError, match=r"double"):
        t(1, 2)
