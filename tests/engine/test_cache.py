"""Caching with ``cache_for``, validators and ``cache_key``; ``target=`` results."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.engine.helpers import bump, count

from headrace import Flow, Parameter, task
from headrace.engine import cache
from headrace.engine import state as s
from headrace.engine.results import JSONSerializer, LocalResult


@task(cache_for=timedelta(hours=1))
def expensive(path: str, x: int) -> int:
    bump(path)
    return x * 100


@task(cache_for=timedelta(hours=1), cache_validator=cache.all_inputs)
def by_inputs(path: str, x: int) -> int:
    bump(path)
    return x * 100


@task(cache_for=timedelta(hours=1), cache_validator=cache.all_parameters)
def by_params(path: str, x: int) -> int:
    bump(path)
    return x * 100


def one_task_flow(fn: Any, path: str, name: str = "cache") -> tuple[Flow, Any]:
    with Flow(name) as flow:
        x = Parameter("x", default=1)
        t = fn(path, x)
    return flow, t


def test_duration_only_reuses_the_result_while_fresh(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    flow, t = one_task_flow(expensive, path)
    first = flow.run(executor=executor).result[t]
    second = flow.run(x=2, executor=executor).result[t]  # inputs ignored by duration_only
    assert type(first) is s.Success and first.result == 100
    assert type(second) is s.Cached and second.result == 100
    assert second.cached_inputs == {"path": path, "x": 1}
    assert count(path) == 1


def test_expired_entries_are_not_used(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    flow, t = one_task_flow(expensive.copy(cache_for=0), path)
    flow.run(executor=executor)
    assert type(flow.run(executor=executor).result[t]) is s.Success
    assert count(path) == 2


def test_all_inputs_reruns_when_inputs_change(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    flow, t = one_task_flow(by_inputs, path)
    assert flow.run(x=1, executor=executor).result[t].result == 100
    assert type(flow.run(x=1, executor=executor).result[t]) is s.Cached
    changed = flow.run(x=2, executor=executor).result[t]
    assert type(changed) is s.Success and changed.result == 200
    assert type(flow.run(x=1, executor=executor).result[t]) is s.Cached  # older entry kept
    assert count(path) == 2


def test_all_parameters_reruns_when_parameters_change(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("params") as flow:
        x = Parameter("x", default=1)
        Parameter("unused", default="a")  # not called: not part of the flow
        t = by_params(path, 5, upstream_tasks=[x])
    flow.run(executor=executor)
    assert type(flow.run(executor=executor).result[t]) is s.Cached
    assert type(flow.run(x=2, executor=executor).result[t]) is s.Success
    assert count(path) == 2


@task(cache_for=timedelta(hours=1), cache_key="shared-key")
def producer_a(path: str) -> str:
    bump(path)
    return "from A"


@task(cache_for=timedelta(hours=1), cache_key="shared-key")
def producer_b(path: str) -> str:
    bump(path)
    return "from B"


def test_cache_key_is_shared_between_flows(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("flow-a") as flow_a:
        a = producer_a(path)
    with Flow("flow-b") as flow_b:
        b = producer_b(path)
    assert flow_a.run(executor=executor).result[a].result == "from A"
    got = flow_b.run(executor=executor).result[b]
    assert type(got) is s.Cached and got.result == "from A"
    assert count(path) == 1


def make_task_named_fetch(tag: str) -> Any:
    """Two unrelated functions that share only the name ``fetch``."""

    def fetch(path: str) -> str:
        bump(path)
        return tag

    fetch.__qualname__ = f"fetch_{tag}"
    return task(fetch, cache_for=timedelta(hours=1))


fetch_one = make_task_named_fetch("one")
fetch_two = make_task_named_fetch("two")


def test_tasks_sharing_only_a_name_never_share_a_cache(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    assert fetch_one.name == fetch_two.name == "fetch"
    with Flow("same-name") as flow:
        one = fetch_one(path)
        two = fetch_two(path)
    state = flow.run(executor=executor)
    assert (state.result[one].result, state.result[two].result) == ("one", "two")
    again = flow.run(executor=executor)
    assert (again.result[one].result, again.result[two].result) == ("one", "two")
    assert count(path) == 2
    # same task and name in another flow: its own cache too
    with Flow("other-flow") as other:
        three = fetch_one(path)
    assert type(other.run(executor=executor).result[three]) is s.Success
    assert count(path) == 3


def test_mapped_children_cache_each_on_its_own(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    with Flow("mapped-cache") as flow:
        m = expensive.map(path=[path, path, path], x=[1, 2, 3])
    assert flow.run(executor=executor).result[m].result == [100, 200, 300]
    again = flow.run(executor=executor).result[m]
    assert again.result == [100, 200, 300]
    assert all(type(c) is s.Cached for c in again.map_states)
    assert count(path) == 3


def broken_validator(state: Any, inputs: Any, parameters: Any) -> bool:
    raise RuntimeError("validator bug")


def test_a_raising_validator_fails_the_task_clearly(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    flow, t = one_task_flow(expensive.copy(cache_validator=broken_validator), path)
    flow.run(executor=executor)
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Failed and "validator bug" in st.message


@task(target="{flow_name}/{task_name}-{x}.json", checkpoint=True)
def targeted(path: str, x: int) -> dict[str, int]:
    bump(path)
    return {"x": x}


def test_target_existing_result_makes_the_task_cached(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    results = tmp_path / "results"
    t = targeted.copy(result=LocalResult(dir=results, serializer=JSONSerializer()))
    with Flow("targets") as flow:
        x = Parameter("x", default=1)
        t = t(path, x)
    first = flow.run(executor=executor).result[t]
    written = results / "targets" / "targeted-1.json"
    assert type(first) is s.Success and written.read_text() == '{"x": 1}'
    second = flow.run(executor=executor).result[t]
    assert type(second) is s.Cached and second.result == {"x": 1}
    assert "targeted-1.json" in second.message
    assert count(path) == 1  # it did not run again
    # a target that does not exist yet runs the task
    third = flow.run(x=2, executor=executor).result[t]
    assert type(third) is s.Success and (results / "targets" / "targeted-2.json").exists()
    assert count(path) == 2


def test_a_prepared_target_file_is_used_without_running(executor: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "calls")
    results = tmp_path / "results"
    (results / "prepared").mkdir(parents=True)
    (results / "prepared" / "targeted-7.json").write_text('{"x": "from disk"}')
    t = targeted.copy(result=LocalResult(dir=results, serializer=JSONSerializer()))
    with Flow("prepared") as flow:
        t = t(path, 7)
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Cached and st.result == {"x": "from disk"}
    assert count(path) == 0


@pytest.mark.parametrize("validator", [cache.partial_inputs_only(["x"])])
def test_partial_inputs_only(executor: Any, tmp_path: Path, validator: Any) -> None:
    flow, t = one_task_flow(expensive.copy(cache_validator=validator), str(tmp_path / "calls"))
    flow.run(executor=executor)
    assert type(flow.run(executor=executor).result[t]) is s.Cached
    assert type(flow.run(x=3, executor=executor).result[t]) is s.Success


def test_a_target_naming_an_unknown_key_fails_the_task_naming_both(
    executor: Any, tmp_path: Path
) -> None:
    path = str(tmp_path / "calls")
    with Flow("bad-target") as flow:
        t = targeted.copy(target="{no_such_key}.json", name="badly_targeted")(path, 1)
    st = flow.run(executor=executor).result[t]
    assert type(st) is s.Failed
    assert "badly_targeted" in st.message and "no_such_key" in st.message
    assert "engine error" not in st.message
    assert count(path) == 0
