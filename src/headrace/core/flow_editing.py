"""Editing a built flow: merging another flow into it (``update``) and putting one task
in another's place (``replace``), as Prefect's ``Flow.update`` and ``Flow.replace`` do.
"""

from __future__ import annotations

from typing import Any

from headrace.core.edge import Edge
from headrace.core.errors import FlowValidationError
from headrace.core.flow_building import FlowBuilding
from headrace.core.task import Task

__all__ = ["FlowEditing"]


class FlowEditing(FlowBuilding):
    """The methods that change tasks already in a flow."""

    def update(self, flow: Any, merge_parameters: bool = False, validate: bool = True) -> None:
        """Add ``flow``'s tasks, edges and constants to this flow. With
        ``merge_parameters=True`` a parameter of ``flow`` whose name this flow already
        uses is replaced by this flow's parameter (otherwise the clash is an error)."""
        if not isinstance(flow, FlowBuilding):
            raise TypeError(f"Flow {self.name!r}: update() takes a Flow, not {flow!r}")
        same: dict[Task, Task] = {}
        if merge_parameters:
            mine = {p.name: p for p in self.parameters()}
            for p in flow.parameters():
                if p.name in mine and mine[p.name] is not p:
                    same[p] = mine[p.name]
        for t in flow.tasks:
            if t not in same:
                self.add_task(t)
        for e in sorted(flow.edges, key=_edge_order(flow)):
            up = same.get(e.upstream_task, e.upstream_task)
            down = same.get(e.downstream_task, e.downstream_task)
            self.add_edge(up, down, e.key, e.mapped, e.flattened, validate=validate)
        for t, values in flow.constants.items():
            target = same.get(t, t)
            for key, value in values.items():
                if key not in self.constants.get(target, {}):
                    self.add_constant(target, key, value)

    def replace(self, old: Task, new: Any, validate: bool = True) -> None:
        """Put ``new`` (a task, or a plain value as a constant task) where ``old`` was:
        the same upstream and downstream edges, constants and reference status."""
        if old not in self.tasks:
            raise FlowValidationError(f"Flow {self.name!r}: {old!r} is not in the flow")
        if not isinstance(new, Task):
            from headrace.core.builtins import Constant

            new = Constant(new)
        ins, outs = self.edges_to(old), self.edges_from(old)
        constants = dict(self.constants.get(old, {}))
        was_reference = old in self._reference
        self._remove_task(old)
        self.add_task(new)
        for e in ins:
            self.add_edge(e.upstream_task, new, e.key, e.mapped, e.flattened, validate=validate)
        for key, value in constants.items():
            self.add_constant(new, key, value)
        for e in outs:
            self.add_edge(new, e.downstream_task, e.key, e.mapped, e.flattened, validate=validate)
        if was_reference:
            self._reference.add(new)

    def _remove_task(self, task: Task) -> None:
        for e in [*self._upstream[task], *self._downstream[task]]:
            self._remove_edge(e)
        del self.tasks[task]
        del self._upstream[task]
        del self._downstream[task]
        del self.slugs[task]
        self.constants.pop(task, None)
        self._fed.pop(task, None)
        self._reference.discard(task)
        self._sorted = None

    def _remove_edge(self, edge: Edge) -> None:
        self.edges.discard(edge)
        self._upstream[edge.downstream_task].remove(edge)
        self._downstream[edge.upstream_task].remove(edge)
        if edge.key is not None:
            self._fed.get(edge.downstream_task, set()).discard(edge.key)
        self._sorted = None


def _edge_order(flow: Any) -> Any:
    """Edges in the order their downstream tasks were added (deterministic slugs)."""
    position = {t: i for i, t in enumerate(flow.tasks)}
    return lambda e: (position.get(e.downstream_task, 0), position.get(e.upstream_task, 0))
