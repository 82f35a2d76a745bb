"""Fail when headrace's top-level packages import one another in a cycle.

``lint-imports`` checks the layers contract of ``pyproject.toml``; this script checks the
other half of the promise: the graph of headrace's top-level packages and modules
(``headrace.core``, ``headrace.engine``, ``headrace.configuration``...) has no cycle, counting
every import grimp finds (module level, function local and typing-only), except the
contract's ``ignore_imports``: the documented delegations such as ``Flow.run``. It prints
each cycle with the module imports that make it, and exits 1 if there is one.

Run from a checkout: ``PYTHONPATH=src python scripts/check_import_cycles.py``.
"""

from __future__ import annotations

import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import grimp

ROOT = "headrace"


def allowed_imports(pyproject: Path) -> set[tuple[str, str]]:
    """The contract's ``ignore_imports`` as (importer, imported) pairs."""
    settings = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]
    pairs: set[tuple[str, str]] = set()
    for contract in settings["contracts"]:
        for line in contract.get("ignore_imports", ()):
            importer, imported = (part.strip() for part in line.split("->"))
            pairs.add((importer, imported))
    return pairs


def top_level(module: str) -> str:
    """``headrace.engine.state`` -> ``engine``; the package root itself is ``headrace``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def package_edges(allowed: set[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """Top-level edges, each with the module imports that make it (allowed ones left out)."""
    graph = grimp.build_graph(ROOT, cache_dir=None)
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = top_level(importer), top_level(imported)
            if a != b and (importer, imported) not in allowed:
                edges[(a, b)].append(f"{importer} -> {imported}")
    return edges


def cycles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm)."""
    succ: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        succ[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(succ[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted({n for edge in edges for n in edge}):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    allowed = allowed_imports(Path(__file__).resolve().parents[1] / "pyproject.toml")
    edges = package_edges(allowed)
    found = cycles(edges)
    nodes = sorted({n for edge in edges for n in edge})
    for component in found:
        print(f"cycle among {', '.join(component)}:")
        for (a, b), imports in sorted(edges.items()):
            if a in component and b in component:
                for line in imports:
                    print(f"  {a} -> {b}: {line}")
    print(
        f"{len(nodes)} top-level packages and modules, {len(edges)} package edges, "
        f"{len(allowed)} allowed delegations set aside: "
        + (f"{len(found)} cycle(s)" if found else "no cycle")
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
