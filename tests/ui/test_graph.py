"""The flow graph and Run form fields the UI derives from a stored flow document."""

from __future__ import annotations

from headrace import Flow, Parameter, task
from headrace.server.domain.pages.graph import flow_graph, parameter_fields


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def double(x: int) -> int:
    return 2 * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


def _document() -> dict:
    with Flow("graph") as flow:
        n = Parameter("n", default=3)
        label = Parameter("label", default="x")
        doubled = double.map(numbers(n))
        total(doubled)
        total(double.map([1, 2]), upstream_tasks=[label])
    return flow.serialize()


def test_mapped_task_is_one_node_and_constants_are_hidden() -> None:
    graph = flow_graph(_document())
    by_name: dict[str, list[dict]] = {}
    for node in graph["nodes"]:
        by_name.setdefault(node["name"], []).append(node)
    assert all(not name.startswith("Constant") for name in by_name)
    assert [n["mapped"] for n in by_name["double"]] == [True, True]
    assert [n["mapped"] for n in by_name["total"]] == [False, False]
    assert {n["parameter"] for n in by_name["n"] + by_name["label"]} == {True}
    slugs = {n["slug"] for n in graph["nodes"]}
    assert all(e["from"] in slugs and e["to"] in slugs for e in graph["edges"])


def test_layers_follow_the_longest_path() -> None:
    graph = flow_graph(_document())
    layer = {n["slug"]: n["layer"] for n in graph["nodes"]}
    for edge in graph["edges"]:
        assert layer[edge["to"]] > layer[edge["from"]]
    assert layer["n"] == 0
    numbers_slug = next(n["slug"] for n in graph["nodes"] if n["name"] == "numbers")
    assert layer[numbers_slug] == 1
    assert graph["layers"] == max(layer.values()) + 1
    orders = [(n["layer"], n["order"]) for n in graph["nodes"]]
    assert len(orders) == len(set(orders)), "two nodes share a position"


def test_a_cyclic_stored_document_still_lays_out() -> None:
    document = {
        "tasks": [{"name": x, "slug": x, "type": "m:Task"} for x in "abc"],
        "edges": [
            {"upstream": "a", "downstream": "b"},
            {"upstream": "b", "downstream": "c"},
            {"upstream": "c", "downstream": "b"},
        ],
    }
    graph = flow_graph(document)
    layer = {n["slug"]: n["layer"] for n in graph["nodes"]}
    assert layer["a"] == 0 and layer["b"] >= 1 and layer["c"] >= 1


def test_run_form_fields_take_their_kind_from_the_default() -> None:
    document = {
        "parameters": [
            {"name": "n", "default": 3, "required": False},
            {"name": "rate", "default": 0.5, "required": False},
            {"name": "flag", "default": True, "required": False},
            {"name": "who", "default": "world", "required": False},
            {"name": "items", "default": [1, 2], "required": False},
            {"name": "must", "default": None, "required": True},
        ]
    }
    kinds = {f["name"]: (f["kind"], f["required"]) for f in parameter_fields(document)}
    assert kinds == {
        "n": ("integer", False),
        "rate": ("number", False),
        "flag": ("boolean", False),
        "who": ("string", False),
        "items": ("json", False),
        "must": ("json", True),
    }
