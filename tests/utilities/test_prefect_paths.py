"""Prefect 1's helper modules at their import paths, with Prefect's behaviour: a ported
flow that imports from ``prefect.utilities.*`` runs with only ``prefect`` renamed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headrace import Flow, Task, task
from headrace.engine.state import Paused, Success
from headrace.utilities.collections import (
    CompoundKey,
    DotDict,
    as_nested_dict,
    dict_to_flatdict,
    flatdict_to_dict,
    flatten_seq,
    merge_dicts,
)
from headrace.utilities.edges import flatten, mapped, unmapped
from headrace.utilities.tasks import as_task, defaults_from_attrs, pause_task, tags


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def numbers() -> list[list[int]]:
    return [[1, 2], [3]]


def test_edge_annotations_map_hold_and_flatten() -> None:
    with Flow("edges") as flow:
        held = add.map(x=[1, 2, 3], y=unmapped(10))
        flat = add.map(x=flatten(numbers()), y=unmapped(0))
        one = add(x=mapped([5, 6]), y=1)
    state = flow.run()
    assert state.result[held].result == [11, 12, 13]
    assert state.result[flat].result == [1, 2, 3]
    assert state.result[one].result == [6, 7]


def test_as_task_wraps_constants_and_collections_of_tasks() -> None:
    existing = add
    assert as_task(existing) is existing
    with Flow("as-task") as flow:
        a = add(1, 2)
        gathered = as_task([a, 4])
        constant = as_task({"k": 1})
    assert isinstance(gathered, Task) and isinstance(constant, Task)
    flow.add_task(constant)
    state = flow.run()
    assert state.result[gathered].result == [3, 4]
    assert state.result[constant].result == {"k": 1}


class Greeter(Task):
    def __init__(self, greeting: str = "hello", name: str | None = None, **kwargs: object) -> None:
        self.greeting = greeting
        self.who = name
        super().__init__(**kwargs)  # type: ignore[arg-type]

    @defaults_from_attrs("greeting")
    def run(self, greeting: str | None = None, target: str = "world") -> str:  # type: ignore[override]
        return f"{greeting} {target}"


def test_defaults_from_attrs_fills_only_what_the_call_left_none() -> None:
    greeter = Greeter(greeting="hi")
    assert greeter.run() == "hi world"
    assert greeter.run(greeting="yo", target="you") == "yo you"
    assert greeter.run(None, "there") == "hi there"
    with pytest.raises(TypeError, match="no argument"):
        defaults_from_attrs("nope")(Greeter.run)


def test_pause_task_pauses_until_resumed() -> None:
    @task
    def gate() -> str:
        pause_task("waiting for approval", duration=timedelta(minutes=5))
        return "approved"

    with Flow("pause") as flow:
        g = gate()
    paused = flow.run().result[g]
    assert isinstance(paused, Paused)
    assert paused.message == "waiting for approval"
    assert paused.start_time is not None
    resumed = flow.run(context={"resume": True}).result[g]
    assert isinstance(resumed, Success) and resumed.result == "approved"


def test_tags_at_the_utilities_path_tag_tasks_built_inside() -> None:
    with Flow("tags"), tags("etl", "nightly"):
        t = add(1, 1)
    assert {"etl", "nightly"} <= set(t.tags)


def test_dotdict_and_nested_conversions() -> None:
    d = DotDict(a=1, b={"c": 2})
    assert d.a == 1 and d["b"] == {"c": 2}
    d.e = 5
    assert d["e"] == 5
    with pytest.raises(AttributeError):
        _ = d.missing
    nested = as_nested_dict({"x": {"y": [{"z": 1}]}})
    assert nested.x.y[0].z == 1
    assert merge_dicts({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4}) == {
        "a": {"b": 1, "c": 3},
        "d": 4,
    }
    flat = dict_to_flatdict({"a": {"b": 1}, "c": 2})
    assert flat == {CompoundKey(("a", "b")): 1, CompoundKey(("c",)): 2}
    assert flatdict_to_dict(flat) == {"a": {"b": 1}, "c": 2}
    assert list(flatten_seq([1, [2, [3, "ab"]], (4,)])) == [1, 2, 3, "ab", 4]
