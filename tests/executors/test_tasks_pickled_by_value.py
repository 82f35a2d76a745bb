"""Mapped tasks whose tasks pickle by value (a flow loaded from a script, as storage does)
run on every executor: the chunks of a map get the upstream states every child shares and
the runner in separate pickles, so on a worker they hold different copies of the tasks."""

from __future__ import annotations

from typing import Any

from support.flows import load_roundtrip_flow, outcome


def test_a_map_with_an_unmapped_upstream_runs_on_every_executor(any_executor: Any) -> None:
    flow = load_roundtrip_flow()  # run_name is not importable: tasks pickle by value
    state = flow.run(parameters={"n": 5, "offset": 2}, executor=any_executor)
    assert outcome(state) == {"state": "Success", "total": 40, "square": [2, 3, 6, 11, 18]}
