"""Running one chunk of a mapped task's children, and the compact form of its states.

A mapped task reaches the executor as a few calls (see :mod:`headrace.engine.mapping`,
which decides the chunks and what each reads); each call is a :class:`ChunkRunner` that
runs a contiguous slice of children one after the other through the task's normal
:class:`~headrace.engine.task_runner.TaskRunner`, so every child still gets its own
states, listeners, retries, timeout, cache and result. This module is what runs where the
chunk runs (a worker thread or process, a dask worker), so it stays small and imports
little; what a chunk returns is a :class:`StateChunk`, whose pickled form is compact
because chunks travel between processes and machines.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headrace.core.edge import Edge
from headrace.engine import steps
from headrace.engine.state import NOT_LOADED, Mapped, State, Success

if TYPE_CHECKING:
    from headrace.core.task import Task
    from headrace.engine.task_runner import TaskRunner

__all__ = ["ChunkRunner", "Piece", "StateChunk", "join_chunks"]

_EMPTY: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Piece:
    """Where one piece of a chunk's mapped input comes from in its source (the source
    travels beside it, in ``reads``: a future the executor resolves first). The chunk reads
    ``source[lo:hi]`` -- a list of states, or an upstream chunk -- or, with ``of_result``,
    wraps each item of ``source.result[lo:hi]`` (source: an upstream state) in a
    ``Success``: a map over an unmapped task's list ships that task's state once to the
    chunks, which slice it where they run, instead of one state per item from here
    (100,000 small objects for the executor to pickle, send and have dask tokenize)."""

    lo: int
    hi: int
    of_result: bool


class StateChunk:
    """The children's states one chunk returns. One object rather than a bare list, so a
    distributed scheduler moves it as one pickle instead of serializing its items one by
    one; plain ``Success`` states (no persisted result, no cache entry: nearly all of a
    big map) travel as (message, result, timestamp) tuples, a third of the bytes and a
    quarter of the pickling time of the objects."""

    __slots__ = ("states",)

    def __init__(self, states: list[State]) -> None:
        self.states = states

    def __len__(self) -> int:
        return len(self.states)

    def __iter__(self) -> Iterator[State]:
        return iter(self.states)

    def __getitem__(self, index: slice) -> list[State]:
        return self.states[index]

    def __repr__(self) -> str:
        return f"<StateChunk of {len(self.states)}>"

    def __reduce__(self) -> tuple[Any, tuple[list[Any]]]:
        packed = [
            (s.message, s.result, s.timestamp)
            if type(s) is Success and s.persisted is None and not hasattr(s, "cache_entry")
            else s
            for s in self.states
        ]
        return _unpack_chunk, (packed,)


def _unpack_chunk(packed: list[Any]) -> StateChunk:
    return StateChunk(
        [Success(p[0], p[1], timestamp=p[2]) if type(p) is tuple else p for p in packed]
    )


def join_chunks(chunks: Sequence[Sequence[State]]) -> list[State]:
    """The children's states of every chunk, in order."""
    return list(itertools.chain.from_iterable(chunks))


class ChunkRunner:
    """Runs a contiguous slice of a mapped task's children, one after the other, each
    through the task's :class:`TaskRunner` as if it had been submitted alone."""

    __slots__ = ("edges", "runner")

    def __init__(self, runner: TaskRunner, edges: tuple[Edge, ...]) -> None:
        self.runner = runner
        self.edges = edges  # the task's upstream edges, in the order its runner sees them

    @property
    def task(self) -> Task:
        """The mapped task (executors name their calls after it)."""
        return self.runner.task

    def __repr__(self) -> str:
        return f"<ChunkRunner {self.runner.task.name!r}>"

    def run(
        self,
        start: int,
        count: int,
        fixed: Mapping[int, Any],
        pieces: Mapping[int, list[Piece]],
        reads: Mapping[int, list[Any]],
        given: Sequence[State | None] | None,
        context: Mapping[str, Any] | None,
        constants: Mapping[str, Any] | None,
    ) -> StateChunk:
        """The final states of children ``start`` .. ``start + count - 1``: ``fixed``
        holds the upstream states every child shares, ``pieces`` where each mapped edge's
        states for this slice are found in its sources ``reads``, all keyed by the edge's
        position in ``edges`` (an ``Edge``
        hashes by its tasks, and on a worker the tasks inside ``fixed`` may be other copies
        than the runner's when the two were pickled apart), ``given`` the children's
        states of an earlier run. Children the runner's ``recall`` knows finished (this
        chunk is run again after its worker died) keep that state and do not run again."""
        runner = self.runner
        fixed = {i: Mapped(map_states=f) if isinstance(f, list) else f for i, f in fixed.items()}
        given = _recalled(runner, start, count, given)
        if runner.plain:
            plain = self._run_plain(start, count, fixed, pieces, reads, given, context, constants)
            if plain is not None:
                return StateChunk(plain)
        items = {position: _concat(reads[position], parts) for position, parts in pieces.items()}
        run = runner.run
        edges = tuple(enumerate(self.edges))
        states = []
        for j in range(count):
            upstream = {e: (items[i][j] if i in items else fixed[i]) for i, e in edges}
            state = given[j] if given is not None else None
            states.append(run(upstream, state, context, start + j, constants))
        return StateChunk(states)

    def _run_plain(
        self,
        start: int,
        count: int,
        fixed: Mapping[int, State],
        pieces: Mapping[int, list[Piece]],
        reads: Mapping[int, list[Any]],
        given: Sequence[State | None] | None,
        context: Mapping[str, Any] | None,
        constants: Mapping[str, Any] | None,
    ) -> list[State] | None:
        """:meth:`run` for a plain task (``runner.plain``): the children given no state
        whose upstream states are plain successes take the runner's fast path
        (:meth:`TaskRunner.run_plain`), the others :meth:`TaskRunner.run`; None when the
        states every child shares do not let a plain run start (then every child takes
        :meth:`TaskRunner.run`).

        The shared states are judged once for the chunk (the upstream checks judge each
        state on its own); a mapped input read from an upstream task's list is the item
        itself, not wrapped in a ``Success`` state first (on the fast path no one looks at
        that state; a child that takes the general path gets it)."""
        runner = self.runner
        edges = self.edges
        if not steps.plain_upstream(runner.spec, {edges[i]: up for i, up in fixed.items()}):
            return None
        # the arguments every child shares, in the order steps.inputs_of gives them
        template = dict(constants or _EMPTY)
        whole: list[tuple[str, Mapped]] = []  # a shared mapped state: a new list per child
        try:
            for i, edge in enumerate(edges):
                if edge.key is None:
                    continue
                up = fixed.get(i)
                if isinstance(up, Mapped):
                    whole.append((edge.key, up))
                    template[edge.key] = None
                else:
                    template[edge.key] = None if up is None else up.result
        except Exception:  # a shared result that cannot be read: each child says so
            return None
        items: dict[int, list[Any]] = {}  # by edge position: each child's state or value
        values: list[tuple[str, list[Any]]] = []  # keyed inputs read from a list's items
        states: list[tuple[str | None, list[State]]] = []  # inputs read from states
        for i, parts in pieces.items():
            key = edges[i].key
            if all(part.of_result for part in parts):
                items[i] = column = _concat_values(reads[i], parts)
                if key is not None:
                    values.append((key, column))
            else:
                items[i] = column = _concat(reads[i], parts)
                states.append((key, column))
        raw = {i for i, parts in pieces.items() if all(part.of_result for part in parts)}
        base = runner.task_context(context)
        run_plain = runner.run_plain
        out: list[State] = []
        for j in range(count):
            index = start + j
            inputs = template.copy()
            plain = given is None or given[j] is None
            if plain:
                for key, column in states:
                    up = column[j]
                    if type(up) not in steps.PLAIN_UPSTREAM or up._value is NOT_LOADED:
                        plain = False
                        break
                    if key is not None:
                        inputs[key] = up._value
            if not plain:
                upstream = {
                    e: (
                        fixed[i]
                        if i not in items
                        else Success(result=items[i][j])
                        if i in raw
                        else items[i][j]
                    )
                    for i, e in enumerate(edges)
                }
                state = given[j] if given is not None else None
                out.append(runner.run(upstream, state, context, index, constants))
                continue
            for key, column in values:
                inputs[key] = column[j]
            for key, mapped in whole:
                inputs[key] = mapped.result
            ctx = base.copy()
            ctx["map_index"] = index
            out.append(run_plain(inputs, ctx, index))
        return out

    __call__ = run  # a Runnable: executors call the chunk runner itself

    def on_worker_lost(
        self,
        error: BaseException,
        start: int,
        count: int,
        fixed: Any = None,
        pieces: Any = None,
        reads: Any = None,
        given: Sequence[State | None] | None = None,
        context: Any = None,
        *_: Any,
    ) -> StateChunk:
        """Each child's state when the executor could not finish the chunk because the
        workers running it (or an upstream chunk) kept dying."""
        lost = self.runner.on_worker_lost
        return StateChunk(
            [
                lost(error, None, given[j] if given is not None else None, context, start + j)
                for j in range(count)
            ]
        )


def _recalled(
    runner: TaskRunner, start: int, count: int, given: Sequence[State | None] | None
) -> Sequence[State | None] | None:
    """``given`` completed with the successful states the runner's ``recall`` knows of:
    a chunk run again after its worker died (a cluster re-runs the lost worker's calls,
    the finished ones too when their results were only in its memory) reuses the children
    that had finished, instead of running their code, and their side effects, twice."""
    recall = runner.recall
    found = recall(runner.slug, start, count) if recall is not None else None
    if not found:
        return given
    merged: list[State | None] = list(given) if given is not None else [None] * count
    for j, state in enumerate(found[:count]):
        old = merged[j]
        if (
            state is not None
            and state.is_successful()
            and not (old is not None and old.is_successful())
        ):
            merged[j] = state
    return merged


def _concat_values(sources: list[Any], parts: list[Piece]) -> list[Any]:
    """The items of an upstream task's list (``Piece.of_result`` parts) themselves."""
    out: list[Any] = []
    for source, part in zip(sources, parts, strict=True):
        out.extend(source.result[part.lo : part.hi])
    return out


def _concat(sources: list[Any], parts: list[Piece]) -> list[State]:
    out: list[State] = []
    for source, part in zip(sources, parts, strict=True):
        lo, hi = part.lo, part.hi
        if part.of_result:
            out.extend(Success(result=item) for item in source.result[lo:hi])
        elif len(parts) == 1 and lo == 0 and hi == len(source):
            return source.states if isinstance(source, StateChunk) else source
        else:
            out.extend(source[lo:hi])
    return out
