"""The context's standard keys (dates, ids, map index, loop count) inside tasks and in
``target=`` templates, on every executor; parameters given through ``context=``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from headrace import Flow, Parameter, context, task
from headrace.engine.errors import ParameterError
from headrace.engine.results.local import LocalResult

KEYS = [
    "date",
    "today",
    "yesterday",
    "tomorrow",
    "today_nodash",
    "yesterday_nodash",
    "tomorrow_nodash",
    "scheduled_start_time",
    "flow_run_id",
    "flow_run_name",
    "task_run_id",
    "map_index",
    "task_loop_count",
    "task_full_name",
]


@task
def read_context(x: int) -> dict[str, Any]:
    return {key: context.get(key) for key in KEYS}


@task
def read_parameters(p: int) -> tuple[int, Any]:
    return p, dict(context.parameters)


WHEN = datetime(2024, 3, 1, 6, 30, tzinfo=UTC)


def test_date_keys_follow_the_scheduled_start_time(executor: Any) -> None:
    with Flow("dates") as flow:
        seen = read_context.map([1, 2])
    state = flow.run(context={"scheduled_start_time": WHEN}, executor=executor)
    first, second = state.result[seen].result
    assert first["date"] == WHEN and first["scheduled_start_time"] == WHEN
    assert (first["today"], first["yesterday"], first["tomorrow"]) == (
        "2024-03-01",
        "2024-02-29",
        "2024-03-02",
    )
    assert (first["today_nodash"], first["yesterday_nodash"], first["tomorrow_nodash"]) == (
        "20240301",
        "20240229",
        "20240302",
    )
    assert (first["map_index"], second["map_index"]) == (0, 1)
    assert first["task_loop_count"] == 1
    assert first["flow_run_id"] == second["flow_run_id"]
    assert first["flow_run_name"]
    assert first["task_run_id"] != second["task_run_id"]
    assert (first["task_full_name"], second["task_full_name"]) == (
        "read_context[0]",
        "read_context[1]",
    )


def test_each_run_gets_its_own_ids_and_todays_date() -> None:
    with Flow("ids") as flow:
        seen = read_context(0)
    one = flow.run().result[seen].result
    two = flow.run().result[seen].result
    assert one["flow_run_id"] != two["flow_run_id"]
    assert one["today"] == datetime.now(UTC).strftime("%Y-%m-%d")
    assert one["map_index"] is None


def test_targets_render_date_and_run_keys(executor: Any, tmp_path: Path) -> None:
    where = LocalResult(dir=tmp_path)
    target = "{today_nodash}/{flow_name}/{task_name}-{map_index}-{x}.pkl"
    with Flow("templated") as flow:
        read_context.map([7, 8], task_args={"checkpoint": True, "result": where, "target": target})
    flow.run(context={"scheduled_start_time": WHEN}, executor=executor)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.pkl"))
    assert written == [
        "20240301/templated/read_context-0-7.pkl",
        "20240301/templated/read_context-1-8.pkl",
    ]


def test_parameters_pass_through_context(executor: Any) -> None:
    with Flow("params") as flow:
        p = Parameter("p")
        got = read_parameters(p)
    state = flow.run(context={"parameters": {"p": 3}}, executor=executor)
    assert state.result[got].result == (3, {"p": 3})
    # parameters= wins over the context's
    state = flow.run(parameters={"p": 4}, context={"parameters": {"p": 3}})
    assert state.result[got].result == (4, {"p": 4})
    with pytest.raises(ParameterError, match="'q'"):
        flow.run(context={"parameters": {"p": 1, "q": 2}})
