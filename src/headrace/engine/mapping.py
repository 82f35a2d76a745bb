"""Submitting a mapped task: splitting its children into chunks and pairing each chunk
with the upstream states it reads.

A mapped task's children reach the executor as a few calls, each a
:class:`~headrace.engine.chunk_runner.ChunkRunner` running a contiguous slice of children
one after the other (every child still with its own states, listeners, retries, timeout,
cache and result), so a big map costs the executor a few dozen calls instead of one per
child. How many calls is the executor's choice (``map_chunk_count``): one for the
in-process ``LocalExecutor``, a few per worker thread for the Dask executors, so they stay
busy and balanced. This module runs in the flow runner's process and decides what each
chunk reads; :mod:`headrace.engine.chunk_runner` is what runs the chunk.

A mapped upstream that is itself a chunked map (chained maps) is paired chunk by chunk
without waiting: the downstream map reuses the upstream's chunk bounds, so chunk *i*
downstream depends only on chunk *i* upstream and starts as soon as that one is done
(depth-first). Any other mapped upstream is waited for and its result split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from headrace.core import gc_pause
from headrace.core.edge import Edge
from headrace.engine.chunk_runner import ChunkRunner, Piece, StateChunk, join_chunks
from headrace.engine.state import Mapped, State, Success

if TYPE_CHECKING:
    from headrace.engine.task_runner import TaskRunner

__all__ = [
    "ChunkRunner",  # re-exported from headrace.engine.chunk_runner, as before the split
    "MappedFutures",
    "StateChunk",  # idem
    "chunk_bounds",
    "join_chunks",  # idem
    "map_items",
    "resolve",
    "submit_mapped",
]

Bounds = list[tuple[int, int]]


class MappedFutures:
    """A submitted mapped task: one future per chunk, each resolving to the list of that
    chunk's children's states; chunk ``i`` holds children ``bounds[i][0]`` up to (not
    including) ``bounds[i][1]``."""

    __slots__ = ("_joined", "bounds", "chunks")

    def __init__(self, chunks: list[Any], bounds: Bounds) -> None:
        self.chunks = chunks
        self.bounds = bounds
        self._joined: Any = None

    def __len__(self) -> int:
        return self.bounds[-1][1] if self.bounds else 0

    def __repr__(self) -> str:
        return f"<MappedFutures {len(self)} children in {len(self.chunks)} chunks>"

    def joined(self, executor: Any) -> Any:
        """One future of the list of all children's states (submitted once), for a task
        that takes the whole map (a reduce, or ``unmapped(...)``)."""
        if self._joined is None:
            self._joined = executor.submit(join_chunks, self.chunks)
        return self._joined


def resolve(executor: Any, future: Any) -> Any:
    """``executor.wait(future)``, where a :class:`MappedFutures` resolves to the list of
    its children's states."""
    if isinstance(future, MappedFutures):
        return join_chunks(executor.wait(future.chunks))
    return executor.wait(future)


def chunk_bounds(count: int, chunks: int) -> Bounds:
    """``count`` children split into ``chunks`` contiguous slices whose sizes differ by
    at most one (so equal work per chunk keeps every worker busy to the end)."""
    chunks = max(1, min(chunks, count))
    return (
        [(i * count // chunks, (i + 1) * count // chunks) for i in range(chunks)] if count else []
    )


def chunk_count(executor: Any, count: int) -> int:
    """How many calls the executor wants ``count`` children split into (one per child for
    an executor that does not say)."""
    choose = getattr(executor, "map_chunk_count", None)
    return count if choose is None else int(choose(count))


def submit_mapped(
    executor: Any,
    runner: TaskRunner,
    upstream: dict[Edge, Any],
    given: State | None,
    ctx: dict[str, Any],
    constants: Mapping[str, Any] | None,
) -> Any:
    """Submit the children of a mapped task in chunks: a :class:`MappedFutures`, or one
    parent future when a mapped upstream cannot be mapped over."""
    per_child: dict[Edge, MappedFutures | _Sliced | list[State]] = {}
    for edge, up in upstream.items():
        if not edge.mapped:
            continue
        if isinstance(up, MappedFutures) and not edge.flattened:
            per_child[edge] = up
            continue
        value = resolve(executor, up)
        if _sliceable(value, edge):
            per_child[edge] = _Sliced(up, len(value.result))
            continue
        with gc_pause.paused():  # one state per child: nothing to collect
            items = map_items(value, edge.flattened)
        if items is None:  # the parent's verdict; a given Mapped is no verdict of now
            parent_given = None if isinstance(given, Mapped) else given
            parent_up = {
                e: value
                if e is edge
                else (u.joined(executor) if isinstance(u, MappedFutures) else u)
                for e, u in upstream.items()
            }
            return executor.submit(runner, parent_up, parent_given, ctx, None, constants, True)
        per_child[edge] = items
    count = min(len(items) for items in per_child.values())
    chained = next((up for up in per_child.values() if isinstance(up, MappedFutures)), None)
    if chained is not None:  # chunk i here reads chunk i upstream: depth-first
        bounds = [(a, min(b, count)) for a, b in chained.bounds if a < count]
    else:
        bounds = chunk_bounds(count, chunk_count(executor, count))
    edges = tuple(upstream)
    fixed = {i: upstream[e] for i, e in enumerate(edges) if e not in per_child}
    calls = []
    with gc_pause.paused():  # the chunks' calls (slices of lists of many children)
        sources = {i: _pieces(per_child[e], bounds) for i, e in enumerate(edges) if e in per_child}
        prior = given.map_states if isinstance(given, Mapped) else []
        for i, (lo, hi) in enumerate(bounds):
            pieces = {pos: [part for _, part in parts[i]] for pos, parts in sources.items()}
            reads = {pos: [src for src, _ in parts[i]] for pos, parts in sources.items()}
            old: list[State | None] | None = None
            if lo < len(prior):
                old = [prior[k] if k < len(prior) else None for k in range(lo, hi)]
            calls.append((lo, hi - lo, fixed, pieces, reads, old, ctx, constants))
    chunk_runner = ChunkRunner(runner, edges)
    submit_many = getattr(executor, "submit_many", None)
    if submit_many is not None:
        chunks = list(submit_many(chunk_runner, calls))
    else:
        chunks = [executor.submit(chunk_runner, *call) for call in calls]
    return MappedFutures(chunks, bounds)


class _Sliced:
    """A mapped upstream whose result the chunks slice where they run (see Piece)."""

    __slots__ = ("future", "size")

    def __init__(self, future: Any, size: int) -> None:
        self.future = future
        self.size = size

    def __len__(self) -> int:
        return self.size


def _sliceable(value: Any, edge: Edge) -> bool:
    """Whether children can read their items straight from ``value``'s result: a
    successful, unmapped, not skipped upstream whose result is a sequence."""
    return (
        not edge.flattened
        and isinstance(value, State)
        and not isinstance(value, Mapped)
        and value.is_successful()
        and not value.is_skipped()
        and isinstance(value.result, Sequence)
    )


def _pieces(
    source: MappedFutures | _Sliced | list[State], bounds: Bounds
) -> list[list[tuple[Any, Piece]]]:
    """For each chunk of ``bounds``, where its states come from in ``source``: slices of
    a list already here, of an upstream's result, or of the upstream chunks that overlap
    it."""
    if isinstance(source, list):
        return [[(source[lo:hi], Piece(0, hi - lo, False))] for lo, hi in bounds]
    if isinstance(source, _Sliced):
        return [[(source.future, Piece(lo, hi, True))] for lo, hi in bounds]
    out: list[list[tuple[Any, Piece]]] = []
    up = 0  # first upstream chunk that may overlap the current chunk
    up_bounds, up_chunks = source.bounds, source.chunks
    for lo, hi in bounds:
        while up < len(up_bounds) and up_bounds[up][1] <= lo:
            up += 1
        parts: list[tuple[Any, Piece]] = []
        k = up
        while k < len(up_bounds) and up_bounds[k][0] < hi:
            a, b = up_bounds[k]
            parts.append((up_chunks[k], Piece(max(lo, a) - a, min(hi, b) - a, False)))
            k += 1
        out.append(parts)
    return out


def map_items(value: Any, flattened: bool) -> list[State] | None:
    """One upstream state per child from a resolved upstream, or ``None`` if it cannot be
    mapped over (not successful, or its result is not a sequence)."""
    if isinstance(value, list):
        states: list[State] = value
    elif isinstance(value, Mapped):
        states = value.map_states
    else:
        if not value.is_successful() or value.is_skipped():
            return None
        try:
            states = [Success(result=item) for item in value.result]
        except TypeError:
            return None
    if not flattened:
        return states
    items: list[State] = []
    for child in states:
        if not child.is_successful():
            items.append(child)
            continue
        try:
            items.extend(Success(result=item) for item in child.result)
        except TypeError:
            return None
    return items
