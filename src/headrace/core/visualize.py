"""Draw a flow with graphviz (the optional ``viz`` extra), coloured by state after a run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.core.flow import Flow
    from headrace.engine.state import State

__all__ = ["visualize"]


def visualize(
    flow: Flow,
    flow_state: State | None = None,
    filename: str | None = None,
    format: str | None = None,
) -> Any:
    """A ``graphviz.Digraph`` of ``flow``; rendered to ``filename`` when given.

    Mapped tasks are one node (with the count of children after a run); ordering-only
    edges are dashed, mapped edges bold.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "flow.visualize() needs the graphviz package: pip install 'headrace[viz]'"
        ) from None
    states: dict[Any, Any] = {}
    if flow_state is not None and isinstance(flow_state.result, dict):
        states = flow_state.result
    graph = graphviz.Digraph(name=flow.name)
    graph.attr(rankdir="TB")
    ids = {t: str(i) for i, t in enumerate(flow.sorted_tasks())}
    for t, node_id in ids.items():
        label = t.name
        attrs = {"shape": "ellipse"}
        state = states.get(t)
        if state is not None:
            attrs.update(style="filled", fillcolor=state.color)
            label = f"{label}\n{type(state).__name__}"
            if state.is_mapped():
                label += f" ({len(state.map_states)} children)"
        if any(e.mapped for e in flow.edges_to(t)):
            attrs["shape"] = "box"
        graph.node(node_id, label, **attrs)
    for e in flow.edges:
        style = "dashed" if e.key is None else ("bold" if e.mapped else "solid")
        graph.edge(ids[e.upstream_task], ids[e.downstream_task], label=e.key or "", style=style)
    if filename:
        graph.render(filename, format=format or "pdf", cleanup=True)
    return graph
