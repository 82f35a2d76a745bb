"""A flow's graph for the UI, laid out in layers from its serialized document.

The server never imports user code, so the graph comes from the stored document: one node
per task (a mapped task is ONE node however many children it has; the run page adds their
counts by state), one edge per dependency. Constants are left out (they are arguments, not
steps). Each node gets a ``layer`` (longest path from a source) and an ``order`` within the
layer, so the browser only has to turn layers into coordinates.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

__all__ = ["flow_graph", "parameter_fields"]

CONSTANT_TYPES = frozenset({"headrace.core.builtins:Constant"})
PARAMETER_SUFFIX = ":Parameter"


def _short_type(type_name: str) -> str:
    return type_name.rsplit(":", 1)[-1] if type_name else ""


def flow_graph(document: dict[str, Any]) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [...], "layers": n}`` for the document's tasks."""
    tasks = [t for t in document.get("tasks", []) if isinstance(t, dict) and t.get("slug")]
    hidden = {t["slug"] for t in tasks if t.get("type") in CONSTANT_TYPES}
    mapped_into = {
        e.get("downstream") for e in document.get("edges", []) if e.get("mapped") is True
    }
    nodes = {
        t["slug"]: {
            "slug": str(t["slug"]),
            "name": str(t.get("name") or t["slug"]),
            "type": _short_type(str(t.get("type") or "")),
            "mapped": bool(t.get("mapped")) or t["slug"] in mapped_into,
            "parameter": str(t.get("type") or "").endswith(PARAMETER_SUFFIX),
        }
        for t in tasks
        if t["slug"] not in hidden
    }
    edges: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for e in document.get("edges", []):
        up, down = e.get("upstream"), e.get("downstream")
        if up not in nodes or down not in nodes or (up, down) in seen:
            continue
        seen.add((up, down))
        edges.append({"from": up, "to": down, "key": e.get("key"), "mapped": bool(e.get("mapped"))})
    layers = _layers(list(nodes), edges)
    per_layer: dict[int, int] = defaultdict(int)
    for slug, node in nodes.items():
        node["layer"] = layers[slug]
        node["order"] = per_layer[layers[slug]]
        per_layer[layers[slug]] += 1
    return {
        "nodes": list(nodes.values()),
        "edges": edges,
        "layers": (max(layers.values()) + 1) if layers else 0,
    }


def _layers(slugs: list[str], edges: list[dict[str, Any]]) -> dict[str, int]:
    """Longest-path layering (Kahn's order); nodes left in a cycle go to the last layer."""
    downstream: dict[str, list[str]] = defaultdict(list)
    indegree = dict.fromkeys(slugs, 0)
    for e in edges:
        downstream[e["from"]].append(e["to"])
        indegree[e["to"]] += 1
    layer = dict.fromkeys(slugs, 0)
    ready = [s for s in slugs if indegree[s] == 0]
    done = 0
    while ready:
        slug = ready.pop(0)
        done += 1
        for child in downstream[slug]:
            layer[child] = max(layer[child], layer[slug] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if done < len(slugs):  # a stored document with a cycle: still draw it
        last = max(layer.values(), default=0) + 1
        for s in slugs:
            if indegree[s] > 0:
                layer[s] = last
    return layer


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "json"


def parameter_fields(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The Run form's fields: name, default, required and an input kind from the default.

    A parameter without a default (required) gets kind ``json``: the form parses what is
    typed as JSON and falls back to the plain string.
    """
    fields = []
    for p in document.get("parameters", []):
        if not isinstance(p, dict) or not p.get("name"):
            continue
        required = bool(p.get("required"))
        default = p.get("default")
        kind = "json" if required and default is None else _kind(default)
        fields.append(
            {"name": str(p["name"]), "default": default, "required": required, "kind": kind}
        )
    return fields
