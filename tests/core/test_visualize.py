"""``flow.visualize()``: a graphviz Digraph of the flow, coloured by state after a run."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import require

from headrace import Flow, task
from headrace.engine.signals import FAIL
from headrace.engine.state import Failed, Success, TriggerFailed


@task
def numbers() -> list[int]:
    return [1, 2, 3]


@task
def inc(x: int) -> int:
    return x + 1


@task
def boom() -> None:
    raise FAIL("no")


@task
def after(x: object) -> None:
    return None


def build() -> tuple[Flow, dict[str, object]]:
    with Flow("viz") as flow:
        n = numbers()
        m = inc.map(n)
        b = boom()
        a = after(b, upstream_tasks=[m])
    return flow, {"n": n, "m": m, "b": b, "a": a}


def test_source_has_one_node_per_task_and_styled_edges() -> None:
    flow, _ = build()
    graph = flow.visualize()
    source = graph.source
    assert source.startswith("digraph viz")
    for name in ("numbers", "inc", "boom", "after"):
        assert f'"{name}"' in source or f"label={name}" in source
    assert source.count("->") == len(flow.edges)
    assert "style=bold" in source  # the mapped edge
    assert "style=dashed" in source  # the ordering-only edge
    assert "fillcolor" not in source  # no states yet


def test_states_colour_the_nodes_after_a_run() -> None:
    flow, _ = build()
    state = flow.run()
    graph = flow.visualize(flow_state=state)
    source = graph.source
    assert f'fillcolor="{Success.color}"' in source
    assert f'fillcolor="{Failed.color}"' in source
    assert f'fillcolor="{TriggerFailed.color}"' in source
    assert "3 children" in source
    assert "TriggerFailed" in source


def test_render_to_a_file(tmp_path: Path) -> None:
    require("graphviz dot", shutil.which("dot") is not None, "apt-get install graphviz")
    flow, _ = build()
    flow.visualize(filename=str(tmp_path / "flow"), format="svg")
    svg = (tmp_path / "flow.svg").read_text()
    assert "<svg" in svg and "numbers" in svg
